-- table: provenance
-- title: Where the figures come from
-- One row per source of data: when it was last collected, the period it covers and
-- how many rows the report read. A source never collected says so; a usage report
-- whose names the tenant conceals is marked, because it cannot be matched to users.
--   source (text): Source
--   status (text): Status
--   collected_at (datetime): Last collected
--   period_from (date): Covers from
--   period_to (date): Covers to
--   rows (int): Rows
--   detail (text): Detail
WITH p AS (SELECT * FROM report_params),
audit_sources AS (
    SELECT string_agg(DISTINCT source, ', ' ORDER BY source) AS kinds, max(ingested_at) AS collected_at
    FROM audit_records
),
usage_run AS (
    SELECT max(collected_at) AS collected_at, any_value(source) AS kind
    FROM usage_report_rows
    WHERE run_id = (SELECT run_id FROM usage_report_current)
),
labels AS (SELECT count(*) AS n, max(valid_from) AS changed_at FROM sensitivity_label_versions WHERE valid_to IS NULL)
SELECT source, status, collected_at, period_from, period_to, rows, detail FROM (
    SELECT 1 AS ord, 'Licences and users (directory snapshot)' AS source, 'collected' AS status,
           (SELECT as_of FROM p) AS collected_at,
           (SELECT min(taken_at) FROM snapshots)::DATE AS period_from, (SELECT as_of FROM p)::DATE AS period_to,
           (SELECT count(*) FROM report_directory) AS rows,
           (SELECT count(*) FROM snapshots WHERE taken_at <= (SELECT as_of FROM p)) || ' snapshots stored' AS detail
    UNION ALL
    SELECT 2, 'Purview audit log (Copilot interactions)',
           CASE WHEN c.audit_records > 0 THEN 'collected' ELSE 'missing' END,
           (SELECT collected_at FROM audit_sources), c.audit_from::DATE, c.audit_to::DATE, c.audit_records,
           CASE WHEN c.audit_records > 0 THEN 'from ' || coalesce((SELECT kinds FROM audit_sources), 'unknown')
                ELSE 'never collected: active users and idle seats cannot be counted from it' END
    FROM report_coverage c
    UNION ALL
    SELECT 3, 'Microsoft 365 Copilot usage report',
           CASE WHEN c.usage_rows = 0 THEN 'missing' WHEN c.usage_concealed THEN 'names concealed'
                ELSE 'collected' END,
           (SELECT collected_at FROM usage_run), c.usage_refresh_date - (c.usage_period - 1), c.usage_refresh_date,
           c.usage_rows,
           CASE WHEN c.usage_rows = 0 THEN 'never collected'
                WHEN c.usage_concealed THEN 'the tenant conceals user names in reports; rows cannot be joined to users'
                ELSE 'from ' || coalesce((SELECT kind FROM usage_run), 'unknown') END
    FROM report_coverage c
    UNION ALL
    SELECT 4, 'Sensitivity label catalogue', CASE WHEN l.n > 0 THEN 'collected' ELSE 'missing' END,
           l.changed_at, NULL, NULL, l.n,
           CASE WHEN l.n > 0 THEN 'collected time is when the catalogue last changed' ELSE 'never collected' END
    FROM labels l
)
ORDER BY ord;
