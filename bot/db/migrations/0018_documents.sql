-- Collective documents: sections, quotes from consented stories (each approved by its
-- teller), members' proposals with anonymous support / oppose / pass, and numbered versions.
--
-- People: documents.created_by, document_quotes.teller_id / proposed_by / teller_name,
-- document_proposals.proposed_by / decided_by (all covered by bot/db/privacy.py). Choices on
-- a proposal are sealed while it is open (document_choices: an HMAC of the member under the
-- proposal's own key, and the choice encrypted with it); when a facilitator decides, only the
-- three counts remain and the key and sealed rows are deleted.

CREATE TABLE documents (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    title           TEXT NOT NULL,
    template        TEXT NOT NULL CHECK (template IN ('journey', 'blank')),
    created_by      INTEGER,
    created_at      TEXT NOT NULL,
    thread_id       INTEGER,          -- the thread or forum post the document lives in
    head_message_id INTEGER           -- its first message: the current version
);
CREATE INDEX documents_community ON documents(community_id, id);

CREATE TABLE document_sections (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,     -- 1-based, what members type as `section`
    heading     TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    UNIQUE (document_id, position)
);

-- A quote's text and teller are deleted (status 'removed') when its teller withdraws or
-- narrows consent, or declines; the row stays so versions can say a quote was there.
CREATE TABLE document_quotes (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    section_id  INTEGER NOT NULL REFERENCES document_sections(id) ON DELETE CASCADE,
    story_id    INTEGER REFERENCES stories(id) ON DELETE SET NULL,
    teller_id   INTEGER,
    proposed_by INTEGER,
    text        TEXT,
    credit      TEXT CHECK (credit IN ('anonymous', 'named')),
    teller_name TEXT,                 -- the credited name (named only), as approved
    status      TEXT NOT NULL CHECK (status IN ('asked', 'agreed', 'declined', 'removed')),
    created_at  TEXT NOT NULL,
    decided_at  TEXT
);
CREATE INDEX document_quotes_story ON document_quotes(story_id);
CREATE INDEX document_quotes_teller ON document_quotes(teller_id);

CREATE TABLE document_proposals (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    section_id  INTEGER NOT NULL REFERENCES document_sections(id) ON DELETE CASCADE,
    text        TEXT,
    proposed_by INTEGER,
    created_at  TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'declined')),
    channel_id  INTEGER,
    message_id  INTEGER,
    ballot_key  BLOB,                 -- sealed per-proposal key; NULL once decided
    support     INTEGER NOT NULL DEFAULT 0,
    oppose      INTEGER NOT NULL DEFAULT 0,
    pass        INTEGER NOT NULL DEFAULT 0,
    decided_by  INTEGER,
    decided_at  TEXT
);
CREATE INDEX document_proposals_document ON document_proposals(document_id, id);

CREATE TABLE document_choices (
    proposal_id INTEGER NOT NULL REFERENCES document_proposals(id) ON DELETE CASCADE,
    voter_key   BLOB NOT NULL,
    sealed      BLOB NOT NULL,
    PRIMARY KEY (proposal_id, voter_key)
);

CREATE TABLE document_versions (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    summary     TEXT NOT NULL,
    content     TEXT NOT NULL,        -- JSON: sections (heading, body, quote ids)
    UNIQUE (document_id, number)
);

CREATE TABLE document_version_quotes (
    version_id INTEGER NOT NULL REFERENCES document_versions(id) ON DELETE CASCADE,
    quote_id   INTEGER NOT NULL REFERENCES document_quotes(id) ON DELETE CASCADE,
    PRIMARY KEY (version_id, quote_id)
);
