-- The digest of the view definitions (queries/views/*.sql) the views were last created from.
-- A write open recreates the views only when a migration is applied or this digest differs,
-- instead of on every open (the collector opens the file once per commit).
CREATE TABLE view_digest (
    digest      VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
