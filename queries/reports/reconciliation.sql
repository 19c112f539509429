-- table: reconciliation
-- title: Active users: audit log beside Microsoft's usage report
-- Both counts cover the same days: the usage report's period, ending on its refresh
-- date. The audit log counts everyone who used Copilot (with or without a seat); the
-- usage report lists licensed users only. Matching needs the report's names, so the
-- matched rows are empty when the tenant conceals them.
--   measure (text, key): Measure
--   figure (text): Figure
--   users (int): Users
WITH
w AS (
    SELECT usage_refresh_date - (usage_period - 1) AS start_on, usage_refresh_date AS end_on,
           usage_concealed AS concealed
    FROM report_coverage
),
rep AS (
    SELECT DISTINCT lower(c.user_principal_name) AS upn_key
    FROM copilot_usage c, w
    WHERE c.last_activity_date BETWEEN w.start_on AND w.end_on
      AND ((SELECT department FROM report_params) IS NULL
           OR lower(c.user_principal_name) IN (SELECT upn_key FROM report_users))
),
aud AS (
    SELECT i.person, any_value(i.upn_key) AS upn_key,
           bool_or(i.user_id IN (SELECT user_id FROM report_seats)) AS has_seat
    FROM report_interactions i, w
    WHERE i.created_at::DATE BETWEEN w.start_on AND w.end_on
    GROUP BY i.person
),
m AS (
    SELECT (SELECT count(*) FROM rep) AS report_active,
           (SELECT count(*) FROM aud) AS audit_active,
           (SELECT count(*) FROM aud WHERE coalesce(has_seat, false)) AS audit_with_seat,
           (SELECT count(*) FROM aud WHERE NOT coalesce(has_seat, false)) AS audit_without_seat,
           (SELECT count(*) FROM aud JOIN rep USING (upn_key)) AS both_sources,
           (SELECT count(*) FROM aud WHERE coalesce(has_seat, false)
                AND upn_key NOT IN (SELECT upn_key FROM rep)) AS audit_only_with_seat,
           (SELECT count(*) FROM rep WHERE upn_key NOT IN (SELECT upn_key FROM aud WHERE upn_key IS NOT NULL))
                AS report_only
)
SELECT measure, figure, users FROM (
    SELECT 1 AS ord, 'usage_report_active' AS measure, 'Active in Microsoft''s usage report' AS figure,
           report_active AS users FROM m
    UNION ALL SELECT 2, 'audit_active', 'Active in the audit log', audit_active FROM m
    UNION ALL SELECT 3, 'audit_active_with_seat', 'of whom hold a Copilot seat', audit_with_seat FROM m
    UNION ALL SELECT 4, 'audit_active_without_seat', 'of whom have no seat (free Copilot Chat)',
           audit_without_seat FROM m
    UNION ALL SELECT 5, 'in_both', 'Active in both', CASE WHEN NOT w.concealed THEN both_sources END FROM m, w
    UNION ALL SELECT 6, 'audit_only_with_seat', 'Seat holders active in the audit log only',
           CASE WHEN NOT w.concealed THEN audit_only_with_seat END FROM m, w
    UNION ALL SELECT 7, 'usage_report_only', 'Active in the usage report only',
           CASE WHEN NOT w.concealed THEN report_only END FROM m, w
)
ORDER BY ord;
