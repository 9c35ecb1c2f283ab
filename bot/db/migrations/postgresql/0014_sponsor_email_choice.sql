-- PostgreSQL twin of ../0014_sponsor_email_choice.sql: the same tables, columns, constraints and indexes.
-- The sponsor stops or restarts the digest e-mails themselves (issue 12).
--
-- communities.sponsor_email_stopped_at: when the community's current sponsor pressed
-- "Stop e-mails" under a digest DM; NULL while e-mails are wanted. The choice belongs to
-- that sponsor of that community: it is cleared whenever the community's sponsor changes
-- (a new sponsor, none, or an erasure), so a new sponsor starts with e-mails on. The DM
-- itself is always sent; only the e-mail is held back.
ALTER TABLE communities ADD COLUMN sponsor_email_stopped_at TEXT COLLATE "C";

-- SQLite clears the column with an AFTER trigger that updates the row again; here a BEFORE
-- trigger clears it in the row being written (the same end state, one row version).
CREATE FUNCTION communities_sponsor_email_choice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sponsor_email_stopped_at := NULL;
    RETURN NEW;
END;
$$;

CREATE TRIGGER communities_sponsor_email_choice
BEFORE UPDATE OF sponsor_id ON communities
FOR EACH ROW WHEN (NEW.sponsor_id IS DISTINCT FROM OLD.sponsor_id)
EXECUTE FUNCTION communities_sponsor_email_choice();
