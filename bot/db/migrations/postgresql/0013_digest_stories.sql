-- PostgreSQL twin of ../0013_digest_stories.sql: the same tables, columns, constraints and indexes.
-- Widened consent takes effect in the next digest, and no story is offered twice (issue 11).
--
-- A digest used to carry the stories *created* in its period that could leave the community
-- at that moment: a story whose teller widened its consent later (group -> anonymous or
-- named, or a circle's story opened to the whole community) was never shared, although its
-- teller was told it "may be shared beyond the community". Now a digest offers the stories
-- that may leave the community and that no earlier digest to the same sponsor offered.
--
-- digest_stories: what each digest offered, written when the digest is compiled for
-- delivery (never by a preview) and fixed once any part of it was delivered, so a retry
-- offers the same stories. A story offered once is never offered again to that recipient,
-- whatever its teller does with its consent later (a distilling group's digest, which goes
-- to another sponsor, is a recipient of its own for the served community's stories). A
-- digest that failed with nothing delivered offered nothing.
--
-- story_offers: the stories a recipient's next digest has to look at, so a digest reads a
-- handful of rows however long the community's history is. The triggers below put a story
-- here whenever it is told, or updated in any way, with a consent that may leave the
-- community (every path that widens consent or audience updates the row), unless a digest
-- to that recipient already offered it; the digest itself decides (through the stories
-- capability's exit function) and clears what it offered or found not shareable.
--
-- Rows name stories, digests and communities only, never a person; they go with the story
-- (erasure deletes it) and with the digest or community.
CREATE TABLE digest_stories (
    digest_id BIGINT NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
    story_id  BIGINT NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    PRIMARY KEY (digest_id, story_id)
);
CREATE INDEX digest_stories_story ON digest_stories(story_id);

CREATE TABLE story_offers (
    recipient_id BIGINT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    story_id     BIGINT NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    PRIMARY KEY (recipient_id, story_id)
);
CREATE INDEX story_offers_story ON story_offers(story_id);

-- The distilling groups that roll a community up (one seek per story told or changed).
CREATE INDEX communities_serves ON communities(serves_id);

-- (SQLite runs the trigger bodies inline; PostgreSQL runs them as functions.)
CREATE FUNCTION story_offers_told() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO story_offers (recipient_id, story_id)
    SELECT NEW.community_id, NEW.id
    UNION ALL
    SELECT c.id, NEW.id FROM communities c WHERE c.serves_id = NEW.community_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER story_offers_told AFTER INSERT ON stories
FOR EACH ROW WHEN (NEW.consent IN ('anonymous', 'named'))
EXECUTE FUNCTION story_offers_told();

CREATE FUNCTION story_offers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO story_offers (recipient_id, story_id)
    SELECT r.id, NEW.id
      FROM (SELECT NEW.community_id AS id
            UNION SELECT c.id FROM communities c WHERE c.serves_id = NEW.community_id) AS r
     WHERE NOT EXISTS (
        SELECT 1 FROM digest_stories ds JOIN digests d ON d.id = ds.digest_id
         WHERE ds.story_id = NEW.id AND d.community_id = r.id
           AND (d.state <> 'failed' OR d.dm_done <> 0 OR d.email_done <> 0))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER story_offers_changed AFTER UPDATE ON stories
FOR EACH ROW WHEN (NEW.consent IN ('anonymous', 'named'))
EXECUTE FUNCTION story_offers_changed();

-- Upgrading: what the old rule offered counts as offered (stories created in a recorded
-- period that may leave the community), so no sponsor is sent an old story again. A story
-- widened after its period before this upgrade cannot be told apart from one shared then;
-- it counts as offered too. What no recorded period covers yet waits for the next digest.
INSERT INTO digest_stories (digest_id, story_id)
SELECT d.id, s.id
  FROM digests d
  JOIN stories s ON s.community_id = d.community_id
 WHERE s.consent IN ('anonymous', 'named')
   AND s.created_at >= d.period_start AND s.created_at < d.period_end
ON CONFLICT DO NOTHING;

INSERT INTO digest_stories (digest_id, story_id)
SELECT d.id, s.id
  FROM digests d
  JOIN communities c ON c.id = d.community_id
  JOIN stories s ON s.community_id = c.serves_id
 WHERE s.consent IN ('anonymous', 'named')
   AND s.created_at >= d.period_start AND s.created_at < d.period_end
ON CONFLICT DO NOTHING;

INSERT INTO story_offers (recipient_id, story_id)
SELECT r.recipient_id, r.story_id
  FROM (SELECT s.community_id AS recipient_id, s.id AS story_id
          FROM stories s WHERE s.consent IN ('anonymous', 'named')
        UNION ALL
        SELECT c.id, s.id FROM communities c JOIN stories s ON s.community_id = c.serves_id
         WHERE s.consent IN ('anonymous', 'named') AND s.created_at >= c.created_at) AS r
 WHERE NOT EXISTS (
    SELECT 1 FROM digest_stories ds JOIN digests d ON d.id = ds.digest_id
     WHERE ds.story_id = r.story_id AND d.community_id = r.recipient_id)
ON CONFLICT DO NOTHING;
