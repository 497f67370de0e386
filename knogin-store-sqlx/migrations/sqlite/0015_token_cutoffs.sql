-- "Not before" times that cut off every token issued at or before them, for one app
-- ('app:CLIENT_ID') or one tenant ('tenant:ID'): after a leak, all of them at once. Every
-- instance reloads them with the revoked tokens.
CREATE TABLE token_cutoffs (
    key        TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 200),
    not_before INTEGER NOT NULL
);
