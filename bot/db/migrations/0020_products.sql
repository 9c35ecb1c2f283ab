-- The impact log: what a group has made (products), where each came from (sources) and its
-- life afterwards (status changes and uses).
--
-- products: one row per product. origin_kind/origin_id name the record a product was made
-- from automatically (a collective document, a closed paper for comment); the unique index
-- makes recording the same origin twice impossible (ProductService.record_origin is
-- idempotent). created_by is NULL for an automatic product whose maker is unknown and after
-- /privacy forget (the group's record stays, the person is detached).
CREATE TABLE products (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    kind          TEXT NOT NULL
                  CHECK (kind IN ('document', 'guideline', 'standard', 'programme', 'training',
                                  'policy_input', 'other')),
    status        TEXT NOT NULL
                  CHECK (status IN ('idea', 'drafting', 'published', 'adopted', 'retired')),
    origin_kind   TEXT,
    origin_id     INTEGER,
    created_by    INTEGER,
    created_at    TEXT NOT NULL,
    CHECK ((origin_kind IS NULL) = (origin_id IS NULL))
);
CREATE INDEX products_community ON products(community_id, created_at);
CREATE INDEX products_created_by ON products(created_by);
CREATE UNIQUE INDEX products_origin ON products(origin_kind, origin_id)
    WHERE origin_kind IS NOT NULL;

-- Where a product came from: a generic link (source_kind + source_id) to a story, a poll, a
-- statement round, a meeting or a significant-change selection of the same community
-- (checked by the service, since the sources live in different tables). A source removed
-- later (a story erased) leaves its link, which then reads as "no longer held".
CREATE TABLE product_sources (
    product_id   INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    source_kind  TEXT NOT NULL,
    source_id    INTEGER NOT NULL,
    linked_by    INTEGER,
    linked_at    TEXT NOT NULL,
    PRIMARY KEY (product_id, source_kind, source_id)
) WITHOUT ROWID;
CREATE INDEX product_sources_linked_by ON product_sources(linked_by);

-- The product's timeline after creation: status changes (status set) and uses (place set),
-- each with an optional note, when and by whom. recorded_by is NULL after /privacy forget; a
-- person's own notes on uses are deleted with it (see bot/domain/privacy.py).
CREATE TABLE product_events (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('status', 'use')),
    status      TEXT CHECK (status IN ('idea', 'drafting', 'published', 'adopted', 'retired')),
    setting     TEXT,
    place       TEXT,
    note        TEXT,
    recorded_by INTEGER,
    at          TEXT NOT NULL,
    CHECK ((kind = 'status' AND status IS NOT NULL AND place IS NULL AND setting IS NULL)
           OR (kind = 'use' AND status IS NULL AND place IS NOT NULL AND setting IS NOT NULL))
);
CREATE INDEX product_events_product ON product_events(product_id, at, id);
CREATE INDEX product_events_at ON product_events(at);
CREATE INDEX product_events_recorded_by ON product_events(recorded_by);
