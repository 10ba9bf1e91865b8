-- 0004_profiles: the tags consumers deleted from their profiles. Everything else in a
-- profile is derived from the event log and rebuilt from it; a deletion is not, and must
-- outlive every rebuild and retraining. Users need not exist (see identities).
CREATE TABLE profile_deleted_tags (
	user_id    TEXT NOT NULL,
	tag        TEXT NOT NULL,
	deleted_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, tag)
) WITHOUT ROWID;
