-- table: departments
-- title: Copilot seats by department
-- One row per department with seat holders: how many hold a seat, how many used Copilot
-- in the last 30 days, and the seats idle past the policy's threshold with their cost.
--   department (text): Department
--   licensed_users (int): Licensed users
--   active_users (int): Active in last 30 days
--   utilisation (percent): Utilisation
--   idle_seats (int): Idle seats
--   idle_monthly_cost (money): Monthly cost of idle seats
WITH c AS (SELECT audit_records > 0 OR usage_rows > 0 AS has_activity FROM report_coverage)
SELECT s.department,
       count(*) AS licensed_users,
       CASE WHEN any_value(c.has_activity) THEN count(*) FILTER (WHERE s.active_30) END AS active_users,
       CASE WHEN any_value(c.has_activity) THEN count(*) FILTER (WHERE s.active_30) / count(*) END AS utilisation,
       CASE WHEN any_value(c.has_activity) THEN count(*) FILTER (WHERE s.reclaimable) END AS idle_seats,
       CASE WHEN any_value(c.has_activity) AND bool_and(NOT s.reclaimable OR p.monthly_price IS NOT NULL)
            THEN coalesce(sum(p.monthly_price) FILTER (WHERE s.reclaimable), 0) END AS idle_monthly_cost
FROM report_seat_status s
CROSS JOIN c
LEFT JOIN report_prices p ON p.sku_id = s.sku_id
GROUP BY s.department
ORDER BY licensed_users DESC, s.department;
