-- Sponsor digest: message-count aggregates, per-community digest schedules, and a record
-- of every digest period (so each is delivered exactly once, and caught up after downtime).

-- Messages counted from gateway metadata only (author, channel, time): never content, never
-- one row per message. One row per member, UTC day and UTC hour of day, incremented in place.
-- The primary key serves the upsert and the per-member "last active before" seek; the
-- (community_id, day) index serves the period scans. Cost of a digest: the period's rows.
CREATE TABLE message_activity (
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    day          TEXT    NOT NULL,                      -- UTC date, YYYY-MM-DD
    hour         INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),  -- UTC hour of day
    messages     INTEGER NOT NULL CHECK (messages > 0),
    PRIMARY KEY (community_id, user_id, day, hour)
) WITHOUT ROWID;
CREATE INDEX message_activity_period ON message_activity(community_id, day, hour);
CREATE INDEX message_activity_user ON message_activity(user_id);

-- A community's digest schedule when a facilitator set one (otherwise config defaults).
CREATE TABLE digest_schedules (
    community_id INTEGER PRIMARY KEY REFERENCES communities(id) ON DELETE CASCADE,
    weekday      INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),  -- Monday = 0
    at_time      TEXT    NOT NULL,                                   -- HH:MM local
    timezone     TEXT    NOT NULL,
    updated_by   INTEGER NOT NULL,
    updated_at   TEXT    NOT NULL
);

-- One row per community and period, written *before* delivery (pending) and updated after
-- (sent), so a crash or restart neither skips nor repeats a digest.
CREATE TABLE digests (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    period_start    TEXT    NOT NULL,
    period_end      TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
    late            INTEGER NOT NULL DEFAULT 0,
    dm_done         INTEGER NOT NULL DEFAULT 0,
    email_done      INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    sent_at         TEXT,
    UNIQUE (community_id, period_end)
);
CREATE INDEX digests_state ON digests(community_id, state);
