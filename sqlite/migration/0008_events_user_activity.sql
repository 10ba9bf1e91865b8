-- 0008_events_user_activity: a user's events readable from the user index alone.
--
-- A visitor whose live state was evicted (or who is new to the process) is rebuilt from
-- their events (recommend.Engine.rebuild). Through events_user each of those events was a
-- lookup of its row in the log, and a user's rows lie far apart (the log is in arrival
-- order), so each cost a page read: about 0.3–0.6 ms a user of 21 events on the large
-- world, more than ranking them. This index carries, after the user, the columns such a
-- read needs (EventFilter.Brief: seq, type, item, time, rating) in seq order, so one or two
-- of its pages hold a user's events. It replaces events_user (same leading column, same
-- partial condition): every query by user uses it, and an insert still updates one user
-- index, a wider one. seq is in the key (not only as the rowid every index ends with) so
-- the entries stay in log order under the user; the rest decide no order.
CREATE INDEX events_user_activity ON events (user_id, seq, type, item_id, occurred_at, rating)
	WHERE user_id != '';
DROP INDEX events_user;
