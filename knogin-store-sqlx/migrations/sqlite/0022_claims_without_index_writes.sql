-- Nothing changes on SQLite; the file keeps both databases' migrations in step. PostgreSQL drops
-- its lease index so that a claim's UPDATE can stay on the row's page (a HOT update). SQLite
-- keeps it: a claim reads its rows back by lease in a second statement, and SQLite has no HOT
-- updates to enable.
SELECT 1;
