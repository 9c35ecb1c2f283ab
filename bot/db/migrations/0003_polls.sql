-- Collective voice: polls, their ballots, statements and statement rounds.
--
-- Anonymity by construction (see bot/db/polls.py):
-- * poll_ballots holds no user id for anonymous polls: a ballot is keyed by
--   HMAC-SHA256(polls.ballot_key, user id), so the bot can find and replace a voter's own
--   ballot while the poll is open. ballot_key is erased when the poll closes, after which
--   no one, not even with the database file, can link a ballot to a member.
-- * poll_voters records who has voted (for nudges and turnout), never how.
-- * Neither table has a timestamp or a rowid (WITHOUT ROWID, ordered by key), so the
--   order of rows cannot be used to match a voter to a ballot.

CREATE TABLE polls (
    id                   INTEGER PRIMARY KEY,
    community_id         INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    kind                 TEXT NOT NULL
                         CHECK (kind IN ('single', 'multi', 'ranked', 'agreement', 'survey')),
    question             TEXT NOT NULL,
    options              TEXT NOT NULL,            -- JSON array of labels
    anonymous            INTEGER NOT NULL DEFAULT 1,
    created_by           INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    closes_at            TEXT,
    nudged_at            TEXT,
    closed_at            TEXT,
    closed_by            INTEGER,
    ballot_key           BLOB,                     -- per-poll secret; NULL once closed
    channel_id           INTEGER,
    message_id           INTEGER,
    voters               INTEGER,                  -- frozen at close
    eligible             INTEGER,                  -- frozen at close
    collective_statement TEXT                      -- written at close
);
CREATE INDEX polls_community ON polls(community_id, closed_at);
CREATE INDEX polls_open ON polls(closed_at, closes_at);

CREATE TABLE poll_ballots (
    poll_id   INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    voter_key BLOB NOT NULL,
    user_id   INTEGER,                             -- only for polls that are not anonymous
    ballot    TEXT NOT NULL,                       -- JSON, canonical form from the domain
    PRIMARY KEY (poll_id, voter_key)
) WITHOUT ROWID;

CREATE TABLE poll_voters (
    poll_id INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (poll_id, user_id)
) WITHOUT ROWID;
CREATE INDEX poll_voters_user ON poll_voters(user_id);

CREATE TABLE statement_rounds (
    id                   INTEGER PRIMARY KEY,
    community_id         INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    opened_by            INTEGER NOT NULL,
    opened_at            TEXT NOT NULL,
    closes_at            TEXT NOT NULL,
    closed_at            TEXT,
    channel_id           INTEGER,
    message_id           INTEGER,
    voters               INTEGER,
    eligible             INTEGER,
    collective_statement TEXT
);
CREATE INDEX statement_rounds_community ON statement_rounds(community_id, closed_at);
CREATE INDEX statement_rounds_open ON statement_rounds(closed_at, closes_at);

CREATE TABLE statements (
    id           INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    round_id     INTEGER REFERENCES statement_rounds(id) ON DELETE SET NULL,
    author_id    INTEGER NOT NULL,
    text         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX statements_community ON statements(community_id, round_id);
CREATE INDEX statements_round ON statements(round_id);
CREATE INDEX statements_author ON statements(author_id);

CREATE TABLE statement_votes (
    statement_id INTEGER NOT NULL REFERENCES statements(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    vote         TEXT NOT NULL CHECK (vote IN ('agree', 'disagree', 'pass')),
    PRIMARY KEY (statement_id, user_id)
) WITHOUT ROWID;
CREATE INDEX statement_votes_user ON statement_votes(user_id);
