-- Small facts about the bot itself, e.g. the fingerprint of the last command tree synced
-- to Discord, so start-up syncs slash commands only when they changed.
CREATE TABLE app_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
