-- 0006_identity_unlinks: undoing a wrong identity link (IdentityService.UnlinkIdentity).
--
-- events.user_resolved is 1 when the event arrived anonymously and its user_id was resolved
-- from the identity's link at ingest, 0 when the sender gave the user id (or none was
-- resolved). An unlink gives the resolved events back to the identity (user_id '') and
-- leaves the others with their user. Adding a column with a constant default rewrites no
-- row, and 0 and 1 take no bytes in a record. No index: the unlink finds the events through
-- events_user. Events stored before this migration count as sent with their user id (0):
-- the log cannot tell which of them were resolved.
ALTER TABLE events ADD COLUMN user_resolved INTEGER NOT NULL DEFAULT 0;

-- What made the link: the id of the event that carried both the identity and the user, or
-- 'api' (LinkIdentity); '' for links made before this migration.
ALTER TABLE identities ADD COLUMN linked_by TEXT NOT NULL DEFAULT '';

-- One row per unlink. While relinked_at is NULL the row blocks events carrying both the
-- identity and the user from linking them again; LinkIdentity of the pair sets relinked_at.
-- resolved_events is the number of events the unlink gave back to the identity.
CREATE TABLE identity_unlinks (
	id              INTEGER PRIMARY KEY,
	identity_key    TEXT NOT NULL,
	channel         TEXT NOT NULL,
	type            TEXT NOT NULL,
	value           TEXT NOT NULL,
	user_id         TEXT NOT NULL,
	unlinked_at     INTEGER NOT NULL,
	reason          TEXT NOT NULL DEFAULT '',
	resolved_events INTEGER NOT NULL DEFAULT 0,
	relinked_at     INTEGER
);
CREATE INDEX identity_unlinks_blocking ON identity_unlinks (identity_key, user_id) WHERE relinked_at IS NULL;
CREATE INDEX identity_unlinks_user ON identity_unlinks (user_id);
