-- table: reconciliation_apps
-- title: Active users by app: audit log beside usage report
-- Per app, people active in the usage report's period by each source. The usage report
-- has no column for Copilot in apps other than those listed (OneNote and Loop count as Other).
--   app (text): App
--   audit_log (int): Audit log
--   usage_report (int): Usage report
--   difference (int): Difference (audit log minus usage report)
WITH
w AS (SELECT usage_refresh_date - (usage_period - 1) AS start_on, usage_refresh_date AS end_on FROM report_coverage),
rep AS (
    SELECT c.* FROM copilot_usage c
    WHERE (SELECT department FROM report_params) IS NULL
       OR lower(c.user_principal_name) IN (SELECT upn_key FROM report_users)
),
rep_apps AS (
    SELECT 'Word' AS app, count(*) FILTER (WHERE word_copilot_last_activity_date BETWEEN start_on AND end_on) AS n
    FROM rep, w
    UNION ALL SELECT 'Excel', count(*) FILTER (WHERE excel_copilot_last_activity_date BETWEEN start_on AND end_on)
    FROM rep, w
    UNION ALL SELECT 'PowerPoint',
        count(*) FILTER (WHERE powerpoint_copilot_last_activity_date BETWEEN start_on AND end_on) FROM rep, w
    UNION ALL SELECT 'Outlook', count(*) FILTER (WHERE outlook_copilot_last_activity_date BETWEEN start_on AND end_on)
    FROM rep, w
    UNION ALL SELECT 'Teams', count(*) FILTER (WHERE teams_copilot_last_activity_date BETWEEN start_on AND end_on)
    FROM rep, w
    UNION ALL SELECT 'Copilot Chat',
        count(*) FILTER (WHERE copilot_chat_last_activity_date BETWEEN start_on AND end_on) FROM rep, w
    UNION ALL SELECT 'Other',
        count(*) FILTER (WHERE onenote_copilot_last_activity_date BETWEEN start_on AND end_on
                            OR loop_copilot_last_activity_date BETWEEN start_on AND end_on) FROM rep, w
),
aud_apps AS (
    SELECT i.app, count(DISTINCT i.person) AS n
    FROM report_interactions i, w
    WHERE i.created_at::DATE BETWEEN w.start_on AND w.end_on
    GROUP BY i.app
)
SELECT a.app, coalesce(x.n, 0) AS audit_log, r.n AS usage_report, coalesce(x.n, 0) - r.n AS difference
FROM report_apps a
LEFT JOIN aud_apps x USING (app)
LEFT JOIN rep_apps r USING (app)
ORDER BY a.ord;
