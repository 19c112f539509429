-- table: first_use
-- title: Time from seat to first use, by department
-- Days from a seat's assignment (assignedPlans) to the holder's first Copilot activity
-- in the audit log. Only seats assigned after the audit log's start can be measured;
-- older seats are counted but left out of the averages.
--   department (text): Department
--   seat_holders (int): Seat holders
--   measurable (int): Assigned within the audit period
--   used (int): Of whom used Copilot
--   not_yet_used (int): Of whom not yet
--   median_days (float): Median days to first use
--   mean_days (float): Mean days to first use
WITH first AS (
    SELECT s.user_id, s.department, s.licensed_since,
           s.licensed_since >= c.audit_from AS measurable,
           (SELECT min(i.created_at) FROM report_interactions i
            WHERE i.user_id = s.user_id AND i.created_at >= s.licensed_since) AS first_at
    FROM report_seats s CROSS JOIN report_coverage c
),
days AS (
    SELECT *, CASE WHEN measurable AND first_at IS NOT NULL
                   THEN round(epoch(first_at - licensed_since) / 86400.0, 1) END AS days
    FROM first
),
by_department AS (
    SELECT department, count(*) AS seat_holders,
           count(*) FILTER (WHERE measurable) AS measurable,
           count(*) FILTER (WHERE measurable AND first_at IS NOT NULL) AS used,
           count(*) FILTER (WHERE measurable AND first_at IS NULL) AS not_yet_used,
           median(days) AS median_days, round(avg(days), 1) AS mean_days, 0 AS ord
    FROM days GROUP BY department
    UNION ALL
    SELECT 'All departments', count(*), count(*) FILTER (WHERE measurable),
           count(*) FILTER (WHERE measurable AND first_at IS NOT NULL),
           count(*) FILTER (WHERE measurable AND first_at IS NULL),
           median(days), round(avg(days), 1), 1
    FROM days
)
SELECT department, seat_holders, measurable, used, not_yet_used, median_days, mean_days
FROM by_department
WHERE seat_holders > 0
ORDER BY ord, median_days NULLS LAST, department;
