-- table: compliance_checks
-- title: Policy checks by clause, latest check run
-- One row per check in the latest stored `m365audit check` run, grouped by the policy
-- clause it enforces. Excepted findings are those the policy file's [[exceptions]] allow.
--   clause (text): Policy clause
--   check_id (text): Check
--   title (text): Compliant state
--   severity (text): Severity
--   status (text): Result
--   open_findings (int): Open findings
--   excepted (int): Excepted findings
WITH latest AS (SELECT run_id FROM findings ORDER BY checked_at DESC LIMIT 1),
f AS (SELECT * FROM findings WHERE run_id = (SELECT run_id FROM latest))
SELECT coalesce(any_value(c.clause), '') AS clause, f.check_id, coalesce(any_value(c.title), f.check_id) AS title,
       any_value(f.severity) AS severity,
       CASE WHEN bool_or(f.status = 'fail' AND NOT coalesce(f.excepted, false)) THEN 'fail'
            WHEN bool_or(f.status = 'fail') THEN 'pass (with exceptions)'
            WHEN bool_or(f.status = 'not_checked') THEN 'not checked'
            ELSE 'pass' END AS status,
       count(*) FILTER (WHERE f.status = 'fail' AND NOT coalesce(f.excepted, false)) AS open_findings,
       count(*) FILTER (WHERE f.status = 'fail' AND coalesce(f.excepted, false)) AS excepted
FROM f LEFT JOIN report_check_info c USING (check_id)
GROUP BY f.check_id
ORDER BY clause, f.check_id;
