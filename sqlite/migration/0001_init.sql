-- 0001_init: the catalogue, people, identities, the event log, API keys and models.
-- Times are UTC integer milliseconds since the Unix epoch; NULL where a time is optional.

CREATE TABLE suppliers (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	region     TEXT NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL
);

CREATE TABLE stores (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL DEFAULT '',
	region     TEXT NOT NULL,
	city       TEXT NOT NULL DEFAULT '',
	channel    TEXT NOT NULL,
	lat        REAL, -- NULL when the store has no geo point
	lon        REAL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX stores_region ON stores (region);

-- Items name their supplier without a foreign key: catalogues are often loaded before (or
-- without) their suppliers.
CREATE TABLE items (
	id          TEXT PRIMARY KEY,
	supplier_id TEXT NOT NULL,
	title       TEXT NOT NULL,
	category    TEXT NOT NULL, -- JSON array, root first
	brand       TEXT NOT NULL DEFAULT '',
	price       REAL NOT NULL,
	attributes  TEXT NOT NULL DEFAULT '{}', -- JSON object of strings
	tags        TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
	status      TEXT NOT NULL,
	launched_at INTEGER,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX items_supplier ON items (supplier_id);

CREATE TABLE assortments (
	store_id        TEXT NOT NULL REFERENCES stores (id),
	item_id         TEXT NOT NULL REFERENCES items (id),
	price           REAL NOT NULL,
	in_stock        INTEGER NOT NULL,
	commission_rate REAL NOT NULL,
	updated_at      INTEGER NOT NULL,
	PRIMARY KEY (store_id, item_id)
) WITHOUT ROWID;
CREATE INDEX assortments_item ON assortments (item_id);

-- Personal fields (name, phone, address) hold ciphertext only.
CREATE TABLE users (
	id                      TEXT PRIMARY KEY,
	gender                  TEXT NOT NULL DEFAULT '',
	birth_year              INTEGER NOT NULL DEFAULT 0,
	city                    TEXT NOT NULL DEFAULT '',
	consent_personalization INTEGER NOT NULL,
	consent_marketing       INTEGER NOT NULL,
	consent_analytics       INTEGER NOT NULL,
	name                    BLOB,
	phone                   BLOB,
	address                 BLOB,
	created_at              INTEGER NOT NULL,
	updated_at              INTEGER NOT NULL
);

-- key is IdentityRef.Key(), "channel:type:value". Users need not exist: events may name
-- users the catalogue of people has never been told about.
CREATE TABLE identities (
	key       TEXT PRIMARY KEY,
	channel   TEXT NOT NULL,
	type      TEXT NOT NULL,
	value     TEXT NOT NULL,
	user_id   TEXT NOT NULL,
	linked_at INTEGER NOT NULL
);
CREATE INDEX identities_user ON identities (user_id);

-- The append-only event log. seq is Event.Seq; id is the sender's idempotency key.
-- AUTOINCREMENT: a seq is never reused, even after the newest events are erased, so readers
-- that follow the log by seq never skip an event.
-- user_id is '' for an anonymous event whose identity was not linked when it arrived;
-- identity_key is '' for an event without an identity. lat/lon are NULL without geo.
CREATE TABLE events (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	id            TEXT NOT NULL UNIQUE,
	type          TEXT NOT NULL,
	user_id       TEXT NOT NULL,
	identity_key  TEXT NOT NULL,
	item_id       TEXT NOT NULL,
	store_id      TEXT NOT NULL,
	channel       TEXT NOT NULL,
	query         TEXT NOT NULL,
	quantity      INTEGER NOT NULL,
	amount        REAL NOT NULL,
	rating        INTEGER NOT NULL,
	text          TEXT NOT NULL,
	location_type TEXT NOT NULL,
	lat           REAL,
	lon           REAL,
	device        TEXT NOT NULL,
	rec_id        TEXT NOT NULL,
	occurred_at   INTEGER NOT NULL,
	received_at   INTEGER NOT NULL
);
-- Each index also orders by seq (the rowid), so per-user, per-store and per-item listings
-- come out in log order. The user and identity indexes are partial and disjoint: an event is
-- found by its user, or, when it arrived anonymously and unresolved, by its identity. Queries
-- repeat the index's WHERE term (user_id != '' or user_id = '') so the planner may use it.
CREATE INDEX events_user ON events (user_id) WHERE user_id != '';
CREATE INDEX events_identity ON events (identity_key) WHERE user_id = '';
CREATE INDEX events_store ON events (store_id);
CREATE INDEX events_item ON events (item_id);
CREATE INDEX events_occurred ON events (occurred_at);

-- Only the SHA-256 of a key's secret is stored.
CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	role         TEXT NOT NULL,
	principal_id TEXT NOT NULL,
	secret_hash  BLOB NOT NULL,
	created_at   INTEGER NOT NULL,
	revoked_at   INTEGER
);

CREATE TABLE models (
	name       TEXT NOT NULL,
	version    INTEGER NOT NULL,
	data       BLOB NOT NULL,
	metrics    TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	PRIMARY KEY (name, version)
);
