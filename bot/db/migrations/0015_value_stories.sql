-- Value-creation stories (Wenger, Trayner & de Laat 2011) and the lounge invitations to tell
-- them.
--
-- A value story has one text per cycle of value the teller filled in: immediate (what they
-- took part in) and potential (what they got from it) are required; applied, realized and
-- reframing are optional. A withdrawn story keeps only a tombstone: id, community,
-- created_at and withdrawn_at; every other column is NULL (the CHECK makes a half-withdrawn
-- row impossible).

CREATE TABLE value_prompt_schedules (
    community_id INTEGER PRIMARY KEY REFERENCES communities(id) ON DELETE CASCADE,
    cadence      TEXT NOT NULL CHECK (cadence IN ('monthly', 'quarterly', 'off')),
    set_at       TEXT NOT NULL,
    last_due_at  TEXT                    -- the latest due time handled (posted or skipped)
);

-- Every invitation posted (or claimed for posting). The unique index on (community, due_at)
-- is what makes a scheduled invitation impossible to post twice; channel_id/message_id are
-- set once it is posted; closed_at when a newer one replaced it (or invitations stopped).
CREATE TABLE value_invitations (
    id           INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    due_at       TEXT NOT NULL,
    claimed_at   TEXT NOT NULL,
    channel_id   INTEGER,
    message_id   INTEGER,
    closed_at    TEXT
);
CREATE UNIQUE INDEX value_invitations_due ON value_invitations(community_id, due_at);
CREATE INDEX value_invitations_open ON value_invitations(community_id) WHERE closed_at IS NULL;

CREATE TABLE value_stories (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    teller_id       INTEGER,
    consent         TEXT NOT NULL DEFAULT 'group'
                    CHECK (consent IN ('group', 'anonymous', 'named', 'withdrawn')),
    immediate       TEXT,
    potential       TEXT,
    applied         TEXT,
    realized        TEXT,
    reframing       TEXT,
    invitation_id   INTEGER REFERENCES value_invitations(id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    withdrawn_at    TEXT,
    -- The bot's post in the community's stories channel: a forum thread (post_channel_id =
    -- thread id, whose starter message has the same id) or a message in a text channel.
    post_channel_id INTEGER,
    post_message_id INTEGER,
    post_is_thread  INTEGER NOT NULL DEFAULT 0,
    CHECK (
        (consent = 'withdrawn' AND teller_id IS NULL AND immediate IS NULL AND potential IS NULL
         AND applied IS NULL AND realized IS NULL AND reframing IS NULL
         AND post_channel_id IS NULL AND post_message_id IS NULL AND withdrawn_at IS NOT NULL)
        OR
        (consent <> 'withdrawn' AND teller_id IS NOT NULL AND immediate IS NOT NULL
         AND potential IS NOT NULL AND withdrawn_at IS NULL)
    )
);
CREATE INDEX value_stories_community_created ON value_stories(community_id, created_at);
CREATE INDEX value_stories_teller ON value_stories(teller_id);
