-- PostgreSQL twin of ../0006_privacy.sql: the same tables, columns, constraints and indexes.
-- Privacy: the daily retention job deletes message-count aggregates older than the
-- retention window (config privacy.retention_days) with `WHERE day < ?`; this index keeps
-- that a range delete instead of a full scan. Erasure (/privacy forget) needs no new tables:
-- it uses the per-user indexes the capabilities already have.
CREATE INDEX message_activity_day ON message_activity(day);
