-- The members' annual report (`/value annual`): the organisation asks each funded member once
-- a year whom they were in contact with, the educational activities they ran, the feedback
-- and stories they heard and the skills they gained, and gives the sponsor the aggregate.
--
-- annual_reports: one collection per community and year at a time (a second open one for the
-- same community and year is refused; the partial unique index makes that hold however two
-- facilitators race). state moves open -> closed exactly once (the close job and a restart
-- both go through `UPDATE ... WHERE state = 'open'`). remind_at is when members who have not
-- answered get one reminder (NULL: none, the collection is too short); reminded_at records
-- that the reminder was claimed. invited / unreachable are counts only: who could not be
-- reached by DM is never stored. lounge_* locate the lounge post with the answer button, so
-- the close can replace it with a closed notice. emailed_at: the report's e-mail to the
-- sponsor went (Discord messages are recorded by bot/delivery.py; an e-mail is not, so a
-- resumed delivery after a crash checks this before sending it again).
CREATE TABLE annual_reports (
    id                 INTEGER PRIMARY KEY,
    community_id       INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    year               INTEGER NOT NULL,
    opened_by          INTEGER NOT NULL,
    opened_at          TEXT NOT NULL,
    closes_at          TEXT NOT NULL,
    remind_at          TEXT,
    reminded_at        TEXT,
    state              TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    closed_at          TEXT,
    invited            INTEGER,
    unreachable        INTEGER,
    lounge_channel_id  INTEGER,
    lounge_message_id  INTEGER,
    emailed_at         TEXT
);
CREATE UNIQUE INDEX annual_reports_one_open ON annual_reports(community_id, year)
    WHERE state = 'open';
CREATE INDEX annual_reports_open ON annual_reports(state) WHERE state = 'open';

-- A member's answer: the four questions and "anything else", as they wrote them (updated in
-- place until the deadline), and whether their words may be quoted in the report for the
-- sponsor: 'group' (not quoted, the default), 'anonymous' (quoted without a name) or 'named'.
-- Deleted by /privacy forget; included in /privacy export.
CREATE TABLE annual_answers (
    report_id      INTEGER NOT NULL REFERENCES annual_reports(id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL,
    contacts       TEXT NOT NULL DEFAULT '',
    education      TEXT NOT NULL DEFAULT '',
    feedback       TEXT NOT NULL DEFAULT '',
    skills         TEXT NOT NULL DEFAULT '',
    other          TEXT NOT NULL DEFAULT '',
    quote_consent  TEXT NOT NULL DEFAULT 'group'
                   CHECK (quote_consent IN ('group', 'anonymous', 'named')),
    answered_at    TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (report_id, user_id)
);
CREATE INDEX annual_answers_user ON annual_answers(user_id);
