-- The application marker: this file is an m365audit database.
--
-- m365audit adds its schema only to a new file or to a file carrying this
-- marker (or, from versions before the marker, schema_migrations with
-- m365audit's own first migration); a DuckDB file of another program is
-- refused rather than changed (store/db.py, recognise_database).
CREATE TABLE IF NOT EXISTS m365audit_application (
    application  VARCHAR NOT NULL,  -- always 'm365audit'
    marked_at    TIMESTAMPTZ NOT NULL
);
INSERT INTO m365audit_application SELECT 'm365audit', now()
WHERE NOT EXISTS (SELECT 1 FROM m365audit_application);
COMMENT ON TABLE m365audit_application IS 'm365audit: this file is an m365audit database';
