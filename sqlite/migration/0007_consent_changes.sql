-- 0007_consent_changes: a log of the users whose personalisation consent may have changed,
-- which every process on the database follows to keep the set of users refusing
-- personalisation in memory (sqlite/consent.go) instead of reading consent on each request.
--
-- A row says only "look at this user again": a reader takes the user's consent from users
-- as it is now, or the default (personalised) when the user is gone. Triggers write the log,
-- so every writer (this server, another one, the CLI, an older binary) keeps it. Each
-- trigger deletes the user's older row before inserting the new one, so the log holds at
-- most one row per user who ever refused or changed their mind, and needs no pruning.
-- AUTOINCREMENT keeps seqs from being reused when the newest row is deleted and replaced: a
-- reader that has applied up to seq n must never be handed a new row numbered n or less.
-- SQLite has one writer at a time, so seqs commit in order.
CREATE TABLE consent_changes (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id TEXT NOT NULL
);
CREATE UNIQUE INDEX consent_changes_user ON consent_changes (user_id);

-- A new user matters only if refusing: absence from the set means the default, personalised.
-- An upsert of an existing user (INSERT … ON CONFLICT DO UPDATE) fires the UPDATE trigger,
-- not this one.
CREATE TRIGGER consent_changes_insert AFTER INSERT ON users
WHEN NEW.consent_personalization = 0
BEGIN
	DELETE FROM consent_changes WHERE user_id = NEW.id;
	INSERT INTO consent_changes (user_id) VALUES (NEW.id);
END;

CREATE TRIGGER consent_changes_update AFTER UPDATE OF consent_personalization ON users
WHEN OLD.consent_personalization IS NOT NEW.consent_personalization
BEGIN
	DELETE FROM consent_changes WHERE user_id = NEW.id;
	INSERT INTO consent_changes (user_id) VALUES (NEW.id);
END;

-- Users are not deleted today; should one be, a refuser leaving the set is logged too.
-- (A user's id never changes, so no trigger watches it.)
CREATE TRIGGER consent_changes_delete AFTER DELETE ON users
WHEN OLD.consent_personalization = 0
BEGIN
	DELETE FROM consent_changes WHERE user_id = OLD.id;
	INSERT INTO consent_changes (user_id) VALUES (OLD.id);
END;

-- The users who refused before this migration.
INSERT INTO consent_changes (user_id) SELECT id FROM users WHERE consent_personalization = 0 ORDER BY id;
