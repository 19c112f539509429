-- table: compliance_findings
-- title: Findings to act on, by check
-- Every failing subject of the results the report shows, grouped by check: open
-- findings first, then muted ones (excepted by the policy file, with its reason and the
-- day the exception ends), then those fixed since the previous run. "Since" is the
-- first stored check run under the same policy that reported it (this run if none did).
--   check_id (text, key): Check id
--   title (text): Check
--   severity (text): Severity
--   state (text): State
--   change (text): Since the previous run
--   subject (text, personal): Who or what
--   detail (text, personal): Evidence
--   since (date): Since
--   muted_reason (text): Muted because
--   muted_until (date): Muted until
WITH run AS (SELECT * FROM report_check_run),
seen AS (
    SELECT f.check_id, lower(f.subject) AS subject_key, min(r.checked_at)::DATE AS since
    FROM check_findings f JOIN check_runs r USING (run_id)
    WHERE f.status = 'fail' AND r.policy_name = (SELECT policy_name FROM run)
    GROUP BY ALL
),
rows_ AS (
    SELECT f.check_id, f.severity, CASE WHEN f.excepted THEN 'muted' ELSE 'open' END AS state, f.change,
           f.subject, f.detail,
           coalesce(s.since, (SELECT checked_at::DATE FROM run)) AS since,
           CASE WHEN f.excepted THEN f.exception_reason END AS muted_reason,
           CASE WHEN f.excepted THEN f.exception_until END AS muted_until
    FROM report_findings f LEFT JOIN seen s ON s.check_id = f.check_id AND s.subject_key = lower(f.subject)
    WHERE f.status = 'fail'
    UNION ALL
    SELECT x.check_id, (SELECT any_value(severity) FROM report_findings r WHERE r.check_id = x.check_id),
           'fixed', 'fixed', x.subject, 'no longer found', s.since, NULL, NULL
    FROM report_fixed x LEFT JOIN seen s ON s.check_id = x.check_id AND s.subject_key = lower(x.subject)
)
SELECT r.check_id, coalesce(c.title, r.check_id) AS title, r.severity, r.state, r.change, r.subject, r.detail,
       r.since, r.muted_reason, r.muted_until
FROM rows_ r LEFT JOIN report_check_info c USING (check_id)
ORDER BY CASE r.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
         r.check_id, CASE r.state WHEN 'open' THEN 0 WHEN 'muted' THEN 1 ELSE 2 END, r.subject;
