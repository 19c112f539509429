-- table: compliance_changes
-- title: Findings new or fixed since the previous check run
-- Failures in the latest check run that the previous run did not have (new), and
-- failures of the previous run that are gone (fixed). A check that could not run in
-- the latest run fixes nothing. With a single stored run every finding is new.
--   change (text): Change
--   check_id (text): Check
--   severity (text): Severity
--   subject (text, personal): Subject
--   detail (text, personal): Detail
--   excepted (bool): Excepted
WITH runs AS (
    SELECT run_id, max(checked_at) AS checked_at, row_number() OVER (ORDER BY max(checked_at) DESC) AS n
    FROM findings GROUP BY run_id
),
now_ AS (SELECT * FROM findings WHERE run_id = (SELECT run_id FROM runs WHERE n = 1) AND status = 'fail'),
before AS (SELECT * FROM findings WHERE run_id = (SELECT run_id FROM runs WHERE n = 2) AND status = 'fail'),
unchecked AS (
    SELECT DISTINCT check_id FROM findings
    WHERE run_id = (SELECT run_id FROM runs WHERE n = 1) AND status = 'not_checked'
)
SELECT change, check_id, severity, subject, detail, excepted FROM (
    SELECT 'new' AS change, n.check_id, n.severity, n.subject, n.detail, coalesce(n.excepted, false) AS excepted
    FROM now_ n
    WHERE NOT EXISTS (SELECT 1 FROM before b WHERE b.check_id = n.check_id
                      AND b.subject IS NOT DISTINCT FROM n.subject)
    UNION ALL
    SELECT 'fixed', b.check_id, b.severity, b.subject, b.detail, coalesce(b.excepted, false)
    FROM before b
    WHERE NOT EXISTS (SELECT 1 FROM now_ n WHERE n.check_id = b.check_id AND n.subject IS NOT DISTINCT FROM b.subject)
      AND b.check_id NOT IN (SELECT check_id FROM unchecked)
)
ORDER BY change DESC, check_id, subject;
