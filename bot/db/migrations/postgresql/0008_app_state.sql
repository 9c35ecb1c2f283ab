-- PostgreSQL twin of ../0008_app_state.sql: the same tables, columns, constraints and indexes.
-- Small facts about the bot itself, e.g. the fingerprint of the last command tree synced
-- to Discord, so start-up syncs slash commands only when they changed.
CREATE TABLE app_state (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);
