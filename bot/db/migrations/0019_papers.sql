-- Papers for comment: a member shares a draft (a file or typed text) for the group's comment
-- until a deadline; members answer agree, agree with changes or disagree, with an optional
-- comment, named or anonymous.
--
-- People: papers.author_id, papers.closed_by, paper_comments.user_id (named comments only);
-- all covered by bot/db/privacy.py. While a paper is open every answer is sealed
-- (paper_answers: an HMAC of the member under the paper's own key, and the answer encrypted
-- with it, padded to one length), named or not, so the rows do not even say which answers
-- are named. At close the answers are opened once: the counts go on the paper row, the
-- comments are written to paper_comments in a canonical order (named ones with their
-- author, anonymous ones with nobody), and the key and the sealed rows are deleted.

CREATE TABLE papers (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    author_id     INTEGER,              -- NULL once an erased author's closed paper is detached
    title         TEXT NOT NULL,
    body          TEXT,                 -- the typed draft (NULL for a file, or once detached)
    file_name     TEXT,                 -- the attached draft's file name (re-posted by Hearth)
    created_at    TEXT NOT NULL,
    closes_at     TEXT NOT NULL,
    channel_id    INTEGER,
    message_id    INTEGER,
    ballot_key    BLOB,                 -- sealed per-paper key; NULL once closed
    closed_at     TEXT,
    closed_by     INTEGER,              -- who closed it early (NULL: on time)
    agree         INTEGER NOT NULL DEFAULT 0,
    changes       INTEGER NOT NULL DEFAULT 0,  -- agree with changes
    disagree      INTEGER NOT NULL DEFAULT 0,
    eligible      INTEGER,              -- members who could answer, at close
    announced_at  TEXT                  -- the author's DM and the statement went out
);
CREATE INDEX papers_community ON papers(community_id, id);
CREATE INDEX papers_open ON papers(closed_at, closes_at);

CREATE TABLE paper_answers (
    paper_id   INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    voter_key  BLOB NOT NULL,
    sealed     BLOB NOT NULL,
    PRIMARY KEY (paper_id, voter_key)
);

CREATE TABLE paper_comments (
    id        INTEGER PRIMARY KEY,
    paper_id  INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    answer    TEXT NOT NULL CHECK (answer IN ('agree', 'changes', 'disagree')),
    comment   TEXT NOT NULL,
    user_id   INTEGER,                  -- named comments only; NULL for anonymous ones
    UNIQUE (paper_id, position)
);
CREATE INDEX paper_comments_user ON paper_comments(user_id);
