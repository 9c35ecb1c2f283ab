-- The sponsor stops or restarts the digest e-mails themselves (issue 12).
--
-- communities.sponsor_email_stopped_at: when the community's current sponsor pressed
-- "Stop e-mails" under a digest DM; NULL while e-mails are wanted. The choice belongs to
-- that sponsor of that community: it is cleared whenever the community's sponsor changes
-- (a new sponsor, none, or an erasure), so a new sponsor starts with e-mails on. The DM
-- itself is always sent; only the e-mail is held back.
ALTER TABLE communities ADD COLUMN sponsor_email_stopped_at TEXT;

CREATE TRIGGER communities_sponsor_email_choice
AFTER UPDATE OF sponsor_id ON communities
WHEN NEW.sponsor_id IS NOT OLD.sponsor_id
BEGIN
    UPDATE communities SET sponsor_email_stopped_at = NULL WHERE id = NEW.id;
END;
