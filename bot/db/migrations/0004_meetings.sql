-- Meetings: the twice-yearly series, one-off (and regional) meetings, RSVPs, reminders
-- sent (so none goes out twice), notes and attendance.

-- One series per community: "the nth weekday of these months at this local time".
CREATE TABLE meeting_series (
    community_id     INTEGER PRIMARY KEY REFERENCES communities(id) ON DELETE CASCADE,
    months           TEXT NOT NULL,            -- "3,9"
    weekday          INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    nth              INTEGER NOT NULL CHECK (nth IN (-1, 1, 2, 3, 4)),
    local_time       TEXT NOT NULL,            -- "18:30", wall time in timezone
    timezone         TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    location         TEXT NOT NULL,
    created_by       INTEGER NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE meetings (
    id                      INTEGER PRIMARY KEY,
    community_id            INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    title                   TEXT NOT NULL,
    start_at                TEXT NOT NULL,     -- ISO UTC
    end_at                  TEXT NOT NULL,     -- ISO UTC
    timezone                TEXT NOT NULL,     -- IANA zone the meeting was planned in
    location                TEXT NOT NULL,
    channel_id              INTEGER,           -- voice/stage channel, when it is the location
    region                  TEXT,
    in_series               INTEGER NOT NULL DEFAULT 0,
    created_by              INTEGER NOT NULL,
    created_at              TEXT NOT NULL,
    status                  TEXT NOT NULL DEFAULT 'scheduled'
                            CHECK (status IN ('scheduled', 'cancelled')),
    event_id                INTEGER,           -- Discord guild scheduled event
    event_problem           TEXT,              -- why there is no event, for the facilitator
    announcement_channel_id INTEGER,
    announcement_id         INTEGER,
    sequence                INTEGER NOT NULL DEFAULT 0,   -- iCalendar SEQUENCE
    notes                   TEXT,
    notes_by                INTEGER,
    notes_at                TEXT,
    attendance_at           TEXT,
    notes_prompted_at       TEXT,
    cancelled_at            TEXT,
    cancelled_by            INTEGER,
    CHECK (end_at > start_at)
);
CREATE INDEX meetings_community_start ON meetings(community_id, start_at);
CREATE INDEX meetings_status_start ON meetings(status, start_at);
CREATE INDEX meetings_event ON meetings(event_id);
CREATE INDEX meetings_series ON meetings(community_id, in_series);

CREATE TABLE meeting_rsvps (
    meeting_id  INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    answer      TEXT NOT NULL CHECK (answer IN ('going', 'maybe', 'cant')),
    answered_at TEXT NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX meeting_rsvps_user ON meeting_rsvps(user_id);

-- A reminder is claimed (state 'sending') before anything is sent and marked 'sent' when
-- done; each recipient is recorded before their message goes out. After a crash the
-- unfinished reminder resumes with the people not yet recorded: nobody gets it twice.
CREATE TABLE meeting_reminders (
    meeting_id     INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    offset_seconds INTEGER NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('sending', 'sent')),
    claimed_at     TEXT NOT NULL,
    finished_at    TEXT,
    PRIMARY KEY (meeting_id, offset_seconds)
);

CREATE TABLE meeting_reminder_deliveries (
    meeting_id     INTEGER NOT NULL,
    offset_seconds INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('pending', 'dm', 'fallback', 'failed')),
    PRIMARY KEY (meeting_id, offset_seconds, user_id),
    FOREIGN KEY (meeting_id, offset_seconds)
        REFERENCES meeting_reminders(meeting_id, offset_seconds) ON DELETE CASCADE
);
CREATE INDEX meeting_reminder_deliveries_user ON meeting_reminder_deliveries(user_id);

CREATE TABLE meeting_attendance (
    meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    marked_by  INTEGER NOT NULL,
    marked_at  TEXT NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX meeting_attendance_user ON meeting_attendance(user_id);
