-- 0005_segments: segment definitions. Members are computed in memory from the profiles.
CREATE TABLE segments (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	expression TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;
