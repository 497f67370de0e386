-- How many times in a row a delivery was claimed without an attempt being recorded: a delivery
-- whose attempts can never be recorded fails after a bounded number of claims instead of being
-- sent again forever. Recording an attempt resets it; a rate-limit deferral gives the claim back.
ALTER TABLE deliveries ADD COLUMN unrecorded_claims INTEGER NOT NULL DEFAULT 0;
