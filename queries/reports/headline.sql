-- table: headline
-- title: Copilot seats at a glance
-- The figures a manager asks first. Purchased, assigned, unassigned seats and seats
-- assigned without a working Copilot plan are for the whole organisation; the rest
-- follow the report's department, if one was chosen. Active means Copilot activity in
-- the window before the snapshot (audit log, else Microsoft's usage report). Copilot
-- Chat is not a seat: the people who may use it (every enabled member account, the
-- view copilot_chat_entitlement) are shown last, apart from the Microsoft 365 Copilot seats.
--   measure (text, key): Measure
--   figure (text): Figure
--   value (float, by_unit): Value
--   unit (text): Unit
WITH
p AS (SELECT * FROM report_params),
k AS (
    SELECT sum(purchased) AS purchased, sum(assigned) AS assigned, sum(holders_all) AS holders_all,
           sum(reclaimable) AS reclaimable,
           -- Idle seats: purchased but not held (whole organisation only) plus reclaimable seats.
           sum(CASE WHEN (SELECT department FROM p) IS NULL THEN purchased - holders_all ELSE 0 END
               + reclaimable) AS idle,
           sum((CASE WHEN (SELECT department FROM p) IS NULL THEN purchased - holders_all ELSE 0 END
                + reclaimable) * monthly_price) AS idle_cost,
           bool_and(monthly_price IS NOT NULL OR
                    (CASE WHEN (SELECT department FROM p) IS NULL THEN purchased - holders_all ELSE 0 END
                     + reclaimable) = 0) AS priced
    FROM report_sku_seats
),
s AS (
    SELECT count(*) AS holders,
           count(*) FILTER (WHERE active_7) AS active_7,
           count(*) FILTER (WHERE active_30) AS active_30,
           count(*) FILTER (WHERE active_90) AS active_90,
           bool_or(has_activity_data) AS has_activity
    FROM report_seat_status
),
c AS (SELECT audit_records > 0 OR usage_rows > 0 AS has_activity FROM report_coverage),
chat AS (
    SELECT count(*) AS may_use
    FROM copilot_chat_entitlement_at((SELECT as_of FROM report_params)) e JOIN report_users USING (user_id)
),
whole AS (SELECT CASE WHEN department IS NULL THEN '' ELSE ' (whole organisation)' END AS suffix FROM p)
SELECT measure, figure, value, unit FROM (
    SELECT 1 AS ord, 'seats_purchased' AS measure, 'Seats purchased' || (SELECT suffix FROM whole) AS figure,
           coalesce(k.purchased, 0)::DOUBLE AS value, 'seats' AS unit FROM k
    UNION ALL SELECT 2, 'seats_assigned', 'Seats assigned' || (SELECT suffix FROM whole),
           coalesce(k.assigned, 0), 'seats' FROM k
    UNION ALL SELECT 3, 'seats_unassigned', 'Seats purchased but not assigned' || (SELECT suffix FROM whole),
           coalesce(k.purchased - k.assigned, 0), 'seats' FROM k
    UNION ALL SELECT 4, 'seat_holders', 'Users holding a working Copilot seat', s.holders, 'users' FROM s
    UNION ALL SELECT 5, 'active_7_days', 'Seat holders active in the last 7 days',
           CASE WHEN c.has_activity THEN s.active_7 END, 'users' FROM s, c
    UNION ALL SELECT 6, 'active_30_days', 'Seat holders active in the last 30 days',
           CASE WHEN c.has_activity THEN s.active_30 END, 'users' FROM s, c
    UNION ALL SELECT 7, 'active_90_days', 'Seat holders active in the last 90 days',
           CASE WHEN c.has_activity THEN s.active_90 END, 'users' FROM s, c
    UNION ALL SELECT 8, 'utilisation_30_days', 'Utilisation (active in 30 days / seat holders)',
           CASE WHEN c.has_activity AND s.holders > 0 THEN s.active_30 / s.holders END, 'share' FROM s, c
    UNION ALL SELECT 9, 'idle_seats', 'Idle seats (not held, or unused for '
           || (SELECT idle_days FROM p) || ' days)', CASE WHEN c.has_activity THEN k.idle END, 'seats' FROM k, c
    UNION ALL SELECT 10, 'idle_monthly_cost', 'Monthly cost of idle seats',
           CASE WHEN c.has_activity AND k.priced THEN coalesce(k.idle_cost, 0) END, 'currency' FROM k, c
    UNION ALL SELECT 11, 'idle_annual_cost', 'Annual cost of idle seats',
           CASE WHEN c.has_activity AND k.priced THEN coalesce(k.idle_cost, 0) * 12 END, 'currency' FROM k, c
    UNION ALL SELECT 12, 'copilot_chat_may_use', 'People who may use Copilot Chat (no licence needed)',
           chat.may_use, 'users' FROM chat
)
ORDER BY ord;
