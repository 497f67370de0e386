-- A claim reads its subscriptions by their ids, so nothing looks deliveries up by lease on
-- PostgreSQL any more. Without this index a claim's UPDATE (the lease, its end, the count of
-- claims) changes no indexed column, and with room left on each page PostgreSQL keeps the new
-- version on the row's own page (a HOT update) instead of adding an entry to every index of the
-- table for each delivery claimed.
DROP INDEX deliveries_by_lease;
ALTER TABLE deliveries SET (fillfactor = 50);
