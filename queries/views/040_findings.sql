-- Findings of `m365audit check`, every stored run.

-- view: findings
-- One row per failing subject of a check run (status fail), and one row per check that passed or could
-- not run (status pass or not_checked, subject NULL, the reason in detail). Filter on the latest run_id
-- for the current state.
--   run_id: the check run
--   checked_at: the time the policy was judged at
--   check_id: the check (docs/checks.md)
--   severity: low, medium, high or critical
--   status: pass, fail or not_checked
--   subject: what breaks the clause (a user's sign-in name, a SKU, an app, a site, ...); NULL for pass and not_checked rows
--   detail: evidence for a failing subject, or why a check was not run
--   excepted: the policy file excepts this finding (it is muted: it still appears, but does not fail the run)
--   exception_reason: the policy file's reason for the exception (muted findings)
--   exception_until: the day the exception ends, NULL when it has no end date
--   change: new or open (failing subjects), compared with the previous run under the same policy
--   policy_name: the policy the run judged ([policy] name)
--   policy_file: the policy file, NULL for the built-in defaults
--   policy_sha256: SHA-256 of the policy file's text
CREATE OR REPLACE VIEW findings AS
SELECT f.run_id, r.checked_at, f.check_id, f.severity, f.status, f.subject, f.detail, f.excepted,
       f.exception_reason, f.exception_until, f.change, r.policy_name, r.policy_file, r.policy_sha256
FROM check_findings f JOIN check_runs r USING (run_id);
