-- Stories: the stories themselves, per-community prompt schedules and the prompts posted.
--
-- A withdrawn story keeps only a tombstone: id, community, created_at and withdrawn_at;
-- every other column is NULL (the CHECK makes a half-withdrawn row impossible).

CREATE TABLE stories (
    id                INTEGER PRIMARY KEY,
    community_id      INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    teller_id         INTEGER,
    title             TEXT,
    text              TEXT,
    stage             TEXT,                -- slug
    stage_label       TEXT,                -- its label when told (what readers see)
    consent           TEXT NOT NULL DEFAULT 'group'
                      CHECK (consent IN ('group', 'anonymous', 'named', 'withdrawn')),
    created_at        TEXT NOT NULL,
    withdrawn_at      TEXT,
    -- Saved from a chat message by someone else (a facilitator): who did it, and whether
    -- the teller has yet to answer the consent question ('dm' = asked by DM, 'inline' = DMs
    -- closed, ask in the next story command they use).
    captured_by       INTEGER,
    consent_request   TEXT CHECK (consent_request IN ('dm', 'inline')),
    source_channel_id INTEGER,
    source_message_id INTEGER,
    -- The bot's post of the story: a forum thread (post_channel_id = thread id, whose
    -- starter message has the same id) or a message in a text channel.
    post_channel_id   INTEGER,
    post_message_id   INTEGER,
    post_is_thread    INTEGER NOT NULL DEFAULT 0,
    CHECK (
        (consent = 'withdrawn' AND teller_id IS NULL AND title IS NULL AND text IS NULL
         AND stage IS NULL AND stage_label IS NULL AND captured_by IS NULL AND consent_request IS NULL
         AND source_channel_id IS NULL AND source_message_id IS NULL
         AND post_channel_id IS NULL AND post_message_id IS NULL AND withdrawn_at IS NOT NULL)
        OR
        (consent <> 'withdrawn' AND teller_id IS NOT NULL AND title IS NOT NULL
         AND text IS NOT NULL AND withdrawn_at IS NULL)
    )
);
CREATE INDEX stories_community_created ON stories(community_id, created_at);
CREATE INDEX stories_teller ON stories(teller_id);
CREATE INDEX stories_consent_request ON stories(teller_id, consent_request);
CREATE UNIQUE INDEX stories_source_message ON stories(source_message_id)
    WHERE source_message_id IS NOT NULL;

CREATE TABLE story_schedules (
    community_id INTEGER PRIMARY KEY REFERENCES communities(id) ON DELETE CASCADE,
    cadence      TEXT NOT NULL CHECK (cadence IN ('weekly', 'fortnightly', 'monthly', 'off')),
    weekday      INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    time_of_day  TEXT NOT NULL,          -- HH:MM, the community's local wall time
    anchor       TEXT NOT NULL,          -- local date the schedule was set (fortnightly parity)
    set_at       TEXT NOT NULL,
    last_due_at  TEXT                    -- the latest due time handled (posted or skipped)
);

-- Every prompt posted. due_at is the scheduled instant (NULL for /story prompt); the
-- unique index is what makes a scheduled prompt impossible to post twice.
CREATE TABLE story_prompts_posted (
    id           INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    prompt_text  TEXT NOT NULL,
    due_at       TEXT,
    posted_at    TEXT NOT NULL,
    channel_id   INTEGER,
    message_id   INTEGER
);
CREATE INDEX story_prompts_community ON story_prompts_posted(community_id, id);
CREATE UNIQUE INDEX story_prompts_due ON story_prompts_posted(community_id, due_at)
    WHERE due_at IS NOT NULL;
