-- Significant-change rounds (Davies & Dart 2005, "Most Significant Change").
--
-- change_rounds: one round per community at a time. A facilitator opens it with domains of
-- change (JSON list of names), a reporting period, a collection deadline and a selection
-- deadline. selector_id is the community whose members select: the community itself, or the
-- distilling group linked to serve it (decided when the round opens). state moves
-- collecting -> selecting -> closed, each step exactly once. outcome is the frozen selection
-- (JSON: per domain the selected story ids, the number of choices and the selectors' reasons,
-- never a selector's id), written in the close's transaction.
CREATE TABLE change_rounds (
    id                    INTEGER PRIMARY KEY,
    community_id          INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    selector_id           INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    opened_by             INTEGER NOT NULL,
    domains               TEXT NOT NULL,
    period_start          TEXT NOT NULL,
    period_end            TEXT NOT NULL,
    collect_until         TEXT NOT NULL,
    select_until          TEXT NOT NULL,
    min_choices           INTEGER NOT NULL,
    state                 TEXT NOT NULL DEFAULT 'collecting'
                          CHECK (state IN ('collecting', 'selecting', 'closed')),
    channel_id            INTEGER,
    message_id            INTEGER,
    selection_channel_id  INTEGER,
    selection_message_id  INTEGER,
    outcome               TEXT,
    created_at            TEXT NOT NULL,
    selection_opened_at   TEXT,
    closed_at             TEXT
);
CREATE INDEX change_rounds_community ON change_rounds(community_id, state);
CREATE INDEX change_rounds_open ON change_rounds(state) WHERE state != 'closed';

-- A story of change. Withdrawn: teller_id, title, changed and why are cleared (a tombstone
-- keeps the id, the domain and when, so a frozen selection can say "a story its teller
-- withdrew").
CREATE TABLE change_stories (
    id            INTEGER PRIMARY KEY,
    round_id      INTEGER NOT NULL REFERENCES change_rounds(id) ON DELETE CASCADE,
    community_id  INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    domain        INTEGER NOT NULL,
    teller_id     INTEGER,
    title         TEXT,
    changed       TEXT,
    why           TEXT,
    consent       TEXT NOT NULL
                  CHECK (consent IN ('group', 'anonymous', 'named', 'withdrawn')),
    created_at    TEXT NOT NULL,
    withdrawn_at  TEXT
);
CREATE INDEX change_stories_round ON change_stories(round_id, domain);
CREATE INDEX change_stories_teller ON change_stories(teller_id);
CREATE INDEX change_stories_community ON change_stories(community_id, created_at);

-- A selector's choice for one domain, with their written reason; changeable until the
-- selection deadline (one row per selector and domain). Never shown with the selector's
-- name; the frozen outcome copies the reasons without selector ids.
CREATE TABLE change_choices (
    round_id     INTEGER NOT NULL REFERENCES change_rounds(id) ON DELETE CASCADE,
    domain       INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    story_id     INTEGER NOT NULL REFERENCES change_stories(id) ON DELETE CASCADE,
    reason       TEXT NOT NULL,
    chosen_at    TEXT NOT NULL,
    PRIMARY KEY (round_id, domain, user_id)
);
CREATE INDEX change_choices_selector ON change_choices(user_id);
CREATE INDEX change_choices_story ON change_choices(story_id);

-- The feedback messages of a closed round (one per domain and audience), so a withdrawal
-- after selection can edit the story out of them.
CREATE TABLE change_feedback_posts (
    round_id    INTEGER NOT NULL REFERENCES change_rounds(id) ON DELETE CASCADE,
    domain      INTEGER NOT NULL,
    audience    TEXT NOT NULL CHECK (audience IN ('inside', 'outside')),
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    PRIMARY KEY (round_id, domain, audience)
);
