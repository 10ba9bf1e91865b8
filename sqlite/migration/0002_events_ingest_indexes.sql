-- 0002_events_ingest_indexes: drop the event indexes no reader needs, for ingest throughput.
--
-- Every index is one more B-tree insert per event, and the store, item and time indexes are
-- written at random places: a transaction of a few thousand events dirties most of their
-- leaf pages, and each dirty page is written whole to the WAL at commit and again at
-- checkpoint. Together they cost more than half the insert time (sqlite.EventService
-- benchmarks: ~26k against ~63k events/s at 1,000-event batches from several callers).
-- The readers of the log walk it by user (events_user, events_identity) or in seq order
-- (training, the fallback window), and check duplicates by id (the UNIQUE index). A listing
-- by store, item or time alone now walks the log in seq order. Bring an index back, in a
-- new migration, with the reader that needs it.
DROP INDEX IF EXISTS events_store;
DROP INDEX IF EXISTS events_item;
DROP INDEX IF EXISTS events_occurred;
