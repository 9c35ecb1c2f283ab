-- Communities, their Discord spaces and their memberships.
-- Later capabilities add their own numbered migrations:
-- 0002 stories, 0003 polls, 0004 meetings, 0005 digest/activity, 0006 privacy.

CREATE TABLE communities (
    id                  INTEGER PRIMARY KEY,
    guild_id            INTEGER NOT NULL,
    name                TEXT NOT NULL,
    slug                TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('reference', 'practice', 'distilling')),
    timezone            TEXT NOT NULL DEFAULT 'Europe/London',
    category_id         INTEGER,
    lounge_id           INTEGER,
    stories_id          INTEGER,
    stories_is_forum    INTEGER NOT NULL DEFAULT 0,
    voice_id            INTEGER,
    meetings_id         INTEGER,
    member_role_id      INTEGER,
    facilitator_role_id INTEGER,
    sponsor_id          INTEGER,
    sponsor_email       TEXT,
    serves_id           INTEGER REFERENCES communities(id) ON DELETE SET NULL,
    created_by          INTEGER NOT NULL,
    created_at          TEXT NOT NULL,
    archived_at         TEXT,
    CHECK (serves_id IS NULL OR serves_id <> id)
);
CREATE UNIQUE INDEX communities_guild_name ON communities(guild_id, name COLLATE NOCASE);
CREATE UNIQUE INDEX communities_guild_slug ON communities(guild_id, slug);

-- Every channel Hearth made for a community, so all capabilities can recognise
-- "a message in the community's channels" with one indexed lookup.
CREATE TABLE community_channels (
    channel_id   INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL,          -- lounge, stories, voice, meetings, circle
    discipline   TEXT                     -- for circles
);
CREATE INDEX community_channels_community ON community_channels(community_id);

-- Forum tag per story stage (when the stories channel is a forum).
CREATE TABLE story_stage_tags (
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    stage        TEXT NOT NULL,
    tag_id       INTEGER NOT NULL,
    PRIMARY KEY (community_id, stage)
);

CREATE TABLE memberships (
    community_id   INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL,
    discipline     TEXT NOT NULL CHECK (discipline IN ('gp', 'nurse', 'patient', 'carer', 'other')),
    region         TEXT,
    is_facilitator INTEGER NOT NULL DEFAULT 0,
    joined_at      TEXT NOT NULL,
    left_at        TEXT,
    PRIMARY KEY (community_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);
