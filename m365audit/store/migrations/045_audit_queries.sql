-- Saved audit log queries: every query m365audit creates with POST /security/auditLog/queries.
--
-- A query is saved (status 'created') in its own transaction as soon as Graph has
-- answered with its id, before it is polled, so that a run that is stopped or killed
-- never creates it again: the next run polls it, pages what succeeded and lands it.
-- The budget of query submissions per rolling 24 hours and of queries running at once
-- (Graph's "Security audit log query service limits", docs/operations.md) is counted
-- from this table. Statuses: created / notStarted / running (live: the service is
-- working on it), succeeded (done, records not landed yet), landed (its records are
-- committed, in the same transaction as this status), split (isRecordCountLimitExceeded:
-- replaced by smaller queries), failed / cancelled (the service said so), gone (the
-- service no longer knows the id: 404).
CREATE TABLE audit_queries (
    query_id         VARCHAR PRIMARY KEY,        -- the auditLogQuery id Graph gave
    api_version      VARCHAR NOT NULL,           -- v1.0 or beta: where the query lives
    window_start     TIMESTAMPTZ NOT NULL,       -- filterStartDateTime
    window_end       TIMESTAMPTZ NOT NULL,       -- filterEndDateTime
    record_types     VARCHAR NOT NULL,           -- recordTypeFilters, comma-separated, sorted
    filters          VARCHAR NOT NULL,           -- the other filters as canonical JSON (scope filters included)
    created_at       TIMESTAMPTZ NOT NULL,       -- when Graph accepted it (counts against the 24 h budget)
    status           VARCHAR NOT NULL,
    records_fetched  BIGINT NOT NULL DEFAULT 0,  -- records paged and landed from it
    last_polled      TIMESTAMPTZ,
    run_id           VARCHAR NOT NULL,           -- the run that created it
    landed_run_id    VARCHAR,                    -- the run that landed it
    problem          VARCHAR                     -- why it failed, was split or is gone
);
