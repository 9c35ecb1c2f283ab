-- PostgreSQL twin of ../0009_sealed_ballots.sql: the same tables, columns, constraints and indexes.
-- Ballots sealed at rest (see bot/db/sealing.py for the threat model).
--
-- While a poll or statement round is open, each ballot is stored under
-- HMAC-SHA256(key, user id) and encrypted with AES-GCM under that key; the key itself is
-- stored only sealed with the installation secret, which lives outside the database. At
-- close the ballots are written again in canonical order with no voter key at all, and
-- the sealed ones and the key are deleted (secure_delete, WAL truncated).
--
-- Upgrading: ballots of polls already closed move as they are (their keys were erased at
-- close). Open polls' ballots and closed statement rounds' votes are converted by
-- bot/db/ballot_upgrade.py right after this migration, in Python, because sealing and the
-- statement report need code; until then they wait in the legacy_* tables.

CREATE TABLE poll_sealed_ballots (
    poll_id   BIGINT NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    voter_key BYTEA NOT NULL,                       -- HMAC-SHA256(poll key, user id)
    user_id   BIGINT,                             -- only for polls that are not anonymous
    sealed    BYTEA NOT NULL,                       -- AES-GCM(poll key, padded ballot)
    PRIMARY KEY (poll_id, voter_key)
);

CREATE TABLE poll_final_ballots (
    poll_id BIGINT NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,                      -- rank in canonical (sorted) order
    user_id BIGINT,                               -- only for polls that are not anonymous
    ballot  TEXT COLLATE "C" NOT NULL,                         -- JSON, canonical form from the domain
    PRIMARY KEY (poll_id, seq)
);
CREATE INDEX poll_final_ballots_user ON poll_final_ballots(user_id) WHERE user_id IS NOT NULL;

INSERT INTO poll_final_ballots (poll_id, seq, user_id, ballot)
SELECT b.poll_id,
       ROW_NUMBER() OVER (PARTITION BY b.poll_id ORDER BY b.ballot, b.user_id),
       b.user_id, b.ballot
  FROM poll_ballots b JOIN polls p ON p.id = b.poll_id
 WHERE p.closed_at IS NOT NULL;
DELETE FROM poll_ballots WHERE poll_id IN (SELECT id FROM polls WHERE closed_at IS NOT NULL);
ALTER TABLE poll_ballots RENAME TO legacy_poll_ballots;

ALTER TABLE statement_rounds ADD COLUMN ballot_key BYTEA;   -- sealed round key; NULL once closed
ALTER TABLE statement_rounds ADD COLUMN report TEXT COLLATE "C";       -- the report, frozen at close (JSON)

CREATE TABLE statement_sealed_votes (
    round_id     BIGINT NOT NULL REFERENCES statement_rounds(id) ON DELETE CASCADE,
    statement_id BIGINT NOT NULL REFERENCES statements(id) ON DELETE CASCADE,
    voter_key    BYTEA NOT NULL,                    -- HMAC-SHA256(round key, user id)
    sealed       BYTEA NOT NULL,                    -- AES-GCM(round key, the vote)
    PRIMARY KEY (statement_id, voter_key)
);
CREATE INDEX statement_sealed_votes_round ON statement_sealed_votes(round_id, voter_key);

ALTER TABLE statement_votes RENAME TO legacy_statement_votes;
