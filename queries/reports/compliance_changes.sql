-- table: compliance_changes
-- title: Findings new or fixed since the previous check run
-- Failures in the results the report shows that the previous run under the same policy
-- did not have (new), and failures of that run that are gone (fixed). A check that could
-- not run fixes nothing. With a single stored run every finding is new.
--   change (text): Change
--   check_id (text, key): Check id
--   title (text): Check
--   severity (text): Severity
--   subject (text, personal): Subject
--   detail (text, personal): Detail
--   excepted (bool): Muted
SELECT change, check_id, coalesce(c.title, check_id) AS title, severity, subject, detail, excepted FROM (
    SELECT 'new' AS change, check_id, severity, subject, detail, coalesce(excepted, false) AS excepted
    FROM report_findings WHERE status = 'fail' AND change = 'new'
    UNION ALL
    SELECT 'fixed', x.check_id, (SELECT any_value(severity) FROM report_findings r WHERE r.check_id = x.check_id),
           x.subject, 'no longer found', false
    FROM report_fixed x
) LEFT JOIN report_check_info c USING (check_id)
ORDER BY change DESC, check_id, subject;
