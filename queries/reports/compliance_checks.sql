-- table: compliance_checks
-- title: Policy checks by clause
-- One row per check of the results the report shows (report_check_run: the policy the
-- report names), grouped by the policy clause it enforces, with what to do about a
-- failure. Muted findings are those the policy file's [[exceptions]] allow.
--   clause (text): Policy clause
--   check_id (text, key): Check id
--   title (text): Check
--   severity (text): Severity
--   status (text): Result
--   open_findings (int): Open findings
--   excepted (int): Muted findings
--   remediation (text): What to do
SELECT coalesce(any_value(c.clause), '') AS clause, f.check_id, coalesce(any_value(c.title), f.check_id) AS title,
       any_value(f.severity) AS severity,
       CASE WHEN bool_or(f.status = 'fail' AND NOT coalesce(f.excepted, false)) THEN 'fail'
            WHEN bool_or(f.status = 'fail') THEN 'pass (with exceptions)'
            WHEN bool_or(f.status = 'not_checked') THEN 'not checked'
            ELSE 'pass' END AS status,
       count(*) FILTER (WHERE f.status = 'fail' AND NOT coalesce(f.excepted, false)) AS open_findings,
       count(*) FILTER (WHERE f.status = 'fail' AND coalesce(f.excepted, false)) AS excepted,
       coalesce(any_value(c.remediation), '') AS remediation
FROM report_findings f LEFT JOIN report_check_info c USING (check_id)
GROUP BY f.check_id
ORDER BY clause, f.check_id;
