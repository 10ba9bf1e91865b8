-- 0003_alerts: store-visit alerts (shop/), their webhook outbox, and the consent they need.

-- Existing consumers have not consented to being named to the stores they walk into.
ALTER TABLE users ADD COLUMN consent_store_alerts INTEGER NOT NULL DEFAULT 0;

-- One webhook per store; secret holds ciphertext only.
CREATE TABLE store_webhooks (
	store_id   TEXT PRIMARY KEY,
	url        TEXT NOT NULL,
	secret     BLOB NOT NULL,
	updated_at INTEGER NOT NULL
);

-- One alert per visit event (id is derived from the event's id). body is the alert's JSON
-- as made, sealed with the field cipher when sealed = 1 (it may name the visitor).
-- user_id is kept so a consumer's alerts can be erased with them.
-- AUTOINCREMENT: seq is the server-sent-event id, never reused after pruning.
CREATE TABLE store_alerts (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL UNIQUE,
	store_id   TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	event_id   TEXT NOT NULL,
	body       BLOB NOT NULL,
	sealed     INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX store_alerts_store ON store_alerts (store_id, seq);
CREATE INDEX store_alerts_user ON store_alerts (user_id);

-- The webhook outbox: one delivery per alert made while its store had a webhook.
-- next_attempt_at is NULL once the delivery is over (delivered_at set, or given up).
CREATE TABLE alert_deliveries (
	alert_seq       INTEGER PRIMARY KEY REFERENCES store_alerts (seq) ON DELETE CASCADE,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER,
	last_attempt_at INTEGER,
	delivered_at    INTEGER,
	last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- The Seq of the event up to which visit events have been turned into alerts: one row.
CREATE TABLE alert_cursor (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	event_seq INTEGER NOT NULL
);
