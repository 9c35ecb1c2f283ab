-- PostgreSQL twin of ../0012_exactly_once.sql: the same tables, columns, constraints and indexes.
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
    run         TEXT COLLATE "C" PRIMARY KEY,          -- e.g. 'meeting:4:remind:86400', 'poll:7:nudge'
    state       TEXT COLLATE "C" NOT NULL CHECK (state IN ('running', 'finished')),
    started_at  TEXT COLLATE "C" NOT NULL,
    finished_at TEXT COLLATE "C"
);
CREATE INDEX delivery_runs_running ON delivery_runs(run) WHERE state = 'running';

CREATE TABLE deliveries (
    key        TEXT COLLATE "C" PRIMARY KEY,           -- e.g. 'digest:3:dm:0', 'prompt:2:15'
    run        TEXT COLLATE "C" NOT NULL REFERENCES delivery_runs(run) ON DELETE CASCADE,
    nonce      TEXT COLLATE "C" NOT NULL CHECK (length(nonce) BETWEEN 1 AND 25),
    state      TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    message_id BIGINT,                    -- once sent
    attempts   BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX deliveries_run ON deliveries(run);

-- A meeting reminder passed over on catch-up (a later one was already due when Hearth came
-- back) is recorded as 'skipped', not 'sent'. (SQLite rebuilds the two reminder tables to
-- change the CHECK; PostgreSQL replaces the constraint in place, to the same end state.)
ALTER TABLE meeting_reminders DROP CONSTRAINT meeting_reminders_state_check;
ALTER TABLE meeting_reminders ADD CONSTRAINT meeting_reminders_state_check
    CHECK (state IN ('sending', 'sent', 'skipped'));
