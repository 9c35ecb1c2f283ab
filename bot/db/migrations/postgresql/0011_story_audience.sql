-- PostgreSQL twin of ../0011_story_audience.sql: the same tables, columns, constraints and indexes.
-- Who may see a story inside its community.
--
-- NULL: the whole community (the story is, or may be, posted in the stories channel).
-- A channel id: the story was saved from somewhere narrower than the whole community (a
-- discipline circle, a private thread) and its teller has not agreed to a wider audience. It
-- is then not posted in the stories channel, is listed only to people who can read that
-- channel (and to its teller), and never leaves the community whatever its consent level.
-- Withdrawing a story clears it with the rest of the row.
ALTER TABLE stories ADD COLUMN audience_channel_id BIGINT;
CREATE INDEX stories_restricted ON stories(community_id, audience_channel_id)
    WHERE audience_channel_id IS NOT NULL;
