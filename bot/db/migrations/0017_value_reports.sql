-- The quarterly value report to the sponsor (issue 15).
--
-- One row per community and quarter, claimed (INSERT ... ON CONFLICT DO NOTHING on the
-- unique key) *before* anything is sent: whichever process or restart claims the quarter
-- first delivers it, and no one ever sends it twice. dm_done and email_done record each
-- channel as it succeeds, so a retry after a failure (or a crash) sends only what is
-- missing; the DM itself goes through the exactly-once deliveries (run
-- 'value-report:<id>:dm'). No column names a person: the sponsor is read from the
-- community when the report is sent, and the report's words are never stored.
CREATE TABLE value_report_deliveries (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    period_start    TEXT    NOT NULL,           -- UTC, ISO 8601: the quarter's local start
    period_end      TEXT    NOT NULL,           -- exclusive
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'skipped', 'failed')),
    dm_done         INTEGER NOT NULL DEFAULT 0 CHECK (dm_done IN (0, 1)),
    email_done      INTEGER NOT NULL DEFAULT 0 CHECK (email_done IN (0, 1)),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,                       -- a pending retry
    problem         TEXT,                       -- why the last attempt failed (no content)
    claimed_at      TEXT    NOT NULL,
    sent_at         TEXT,
    UNIQUE (community_id, period_start)
);
CREATE INDEX value_report_deliveries_pending
    ON value_report_deliveries(community_id) WHERE state = 'pending';
