-- Exactly-once scheduled messages (issue 11).
--
-- A run is one scheduled effect: a meeting's 1-day reminder, a poll's nudge, a digest's DM,
-- a story prompt. Each message of a run is recorded here (state 'pending', with the nonce it
-- is sent with) *before* it is sent, and marked 'sent' with its message id after. Discord's
-- enforce_nonce answers a repeated nonce with the message already created, so after a crash
-- a pending message is simply sent again with the same nonce: if the first attempt landed
-- nobody gets a second copy, and if it did not, it is delivered now.
--
-- When a run finishes, its row says so and its message rows are deleted (what each member
-- got is kept, where Hearth keeps it at all, by the capability's own tables, such as
-- meeting_reminder_deliveries). Keys name things by id (meeting, poll, digest, prompt);
-- a message to one member is keyed by a digest of the run and the member, never their id.
CREATE TABLE delivery_runs (
    run         TEXT PRIMARY KEY,          -- e.g. 'meeting:4:remind:86400', 'poll:7:nudge'
    state       TEXT NOT NULL CHECK (state IN ('running', 'finished')),
    started_at  TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX delivery_runs_running ON delivery_runs(run) WHERE state = 'running';

CREATE TABLE deliveries (
    key        TEXT PRIMARY KEY,           -- e.g. 'digest:3:dm:0', 'prompt:2:15'
    run        TEXT NOT NULL REFERENCES delivery_runs(run) ON DELETE CASCADE,
    nonce      TEXT NOT NULL CHECK (length(nonce) BETWEEN 1 AND 25),
    state      TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    message_id INTEGER,                    -- once sent
    attempts   INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE INDEX deliveries_run ON deliveries(run);

-- A meeting reminder passed over on catch-up (a later one was already due when Hearth came
-- back) is recorded as 'skipped', not 'sent'. SQLite cannot change a CHECK in place, so the
-- two reminder tables are rebuilt (the deliveries table references the reminders table, so
-- it moves with it; the renames carry that reference along).
CREATE TABLE meeting_reminders_v2 (
    meeting_id     INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    offset_seconds INTEGER NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'skipped')),
    claimed_at     TEXT NOT NULL,
    finished_at    TEXT,
    PRIMARY KEY (meeting_id, offset_seconds)
);
INSERT INTO meeting_reminders_v2 (meeting_id, offset_seconds, state, claimed_at, finished_at)
    SELECT meeting_id, offset_seconds, state, claimed_at, finished_at FROM meeting_reminders;

CREATE TABLE meeting_reminder_deliveries_v2 (
    meeting_id     INTEGER NOT NULL,
    offset_seconds INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('pending', 'dm', 'fallback', 'failed')),
    PRIMARY KEY (meeting_id, offset_seconds, user_id),
    FOREIGN KEY (meeting_id, offset_seconds)
        REFERENCES meeting_reminders_v2(meeting_id, offset_seconds) ON DELETE CASCADE
);
INSERT INTO meeting_reminder_deliveries_v2 (meeting_id, offset_seconds, user_id, outcome)
    SELECT meeting_id, offset_seconds, user_id, outcome FROM meeting_reminder_deliveries;

DROP TABLE meeting_reminder_deliveries;
DROP TABLE meeting_reminders;
ALTER TABLE meeting_reminders_v2 RENAME TO meeting_reminders;
ALTER TABLE meeting_reminder_deliveries_v2 RENAME TO meeting_reminder_deliveries;
CREATE INDEX meeting_reminder_deliveries_user ON meeting_reminder_deliveries(user_id);
