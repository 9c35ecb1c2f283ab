-- PostgreSQL twin of ../0023_value_report_schedule.sql: the same table, columns and checks.
-- The sponsor's value report schedule, per community (issue 15): how often it goes out.
--
-- No row: the default, quarterly since the community began. A facilitator's /value schedule
-- writes the row: cadence (monthly, quarterly, half-yearly, yearly or off); changed_at, when
-- it was last changed (a period whose report fell due before then belongs to the old
-- cadence); report_from, how far back the first report after the change may reach (the
-- start of what the old cadence had still to report, or, turning it back on after off, the
-- start of the new cadence's current period). The rules are in bot/domain/value/periods.py.
-- Each report is still claimed once in value_report_deliveries. No column names a person.
CREATE TABLE value_report_schedules (
    community_id  BIGINT PRIMARY KEY REFERENCES communities(id) ON DELETE CASCADE,
    cadence       TEXT COLLATE "C" NOT NULL
                  CHECK (cadence IN ('monthly', 'quarterly', 'half-yearly', 'yearly', 'off')),
    changed_at    TEXT COLLATE "C" NOT NULL,   -- UTC, ISO 8601
    report_from   TEXT COLLATE "C"             -- UTC, ISO 8601
);
