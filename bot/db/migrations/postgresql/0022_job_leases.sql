-- Leases of global scheduled jobs (issue 17, several processes).
--
-- Each Hearth process schedules the jobs of the guilds on its gateway shards; a job of no
-- guild (the retention sweep) is run by one process at a time: the one whose row here names
-- it as holder and has not expired. A holder renews its lease each run; another process
-- takes the job over once the lease has expired (its holder stopped). Times are ISO-8601
-- UTC text, compared as text.
CREATE TABLE job_leases (
    job        TEXT COLLATE "C" PRIMARY KEY,   -- the scheduler's job id, e.g. 'privacy:retention'
    holder     TEXT COLLATE "C" NOT NULL,      -- a random id of the process, made at its start
    expires_at TEXT COLLATE "C" NOT NULL  -- compared as text: by code point, as SQLite
);
