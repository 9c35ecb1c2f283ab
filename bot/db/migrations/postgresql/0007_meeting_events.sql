-- PostgreSQL twin of ../0007_meeting_events.sql: the same tables, columns, constraints and indexes.
-- Meetings' Discord events: a refused edit (the meeting moved in Hearth but Discord said no)
-- is recorded here so the edit is retried, by a scheduled job and at start-up, until the
-- event shows the meeting's time again. NULL means the event is in step (or there is none).
ALTER TABLE meetings ADD COLUMN event_stale_since TEXT COLLATE "C";
CREATE INDEX meetings_event_stale ON meetings(event_stale_since)
    WHERE event_stale_since IS NOT NULL;
