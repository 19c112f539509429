-- table: adoption_apps
-- title: Copilot use by app, last 30 days
-- People who used Copilot in each app in the 30 days before the snapshot (audit log).
-- Without a seat, people can still use the free Copilot Chat; they are counted apart.
--   app (text): App
--   active_users (int): Active users
--   seat_holders_active (int): Of whom seat holders
--   without_seat (int): Of whom without a seat
--   interactions (int): Interactions
--   share_of_seat_holders (percent): Share of seat holders using it
WITH w AS (
    SELECT i.* , i.user_id IN (SELECT user_id FROM report_seats) AS has_seat
    FROM report_interactions i
    WHERE i.created_at > (SELECT as_of FROM report_params) - INTERVAL 30 DAY
),
holders AS (SELECT count(*) AS n FROM report_seats)
SELECT a.app,
       count(DISTINCT w.person) AS active_users,
       count(DISTINCT w.person) FILTER (WHERE w.has_seat) AS seat_holders_active,
       count(DISTINCT w.person) FILTER (WHERE NOT coalesce(w.has_seat, false)) AS without_seat,
       count(w.record_id) AS interactions,
       CASE WHEN any_value(holders.n) > 0
            THEN count(DISTINCT w.person) FILTER (WHERE w.has_seat) / any_value(holders.n) END
           AS share_of_seat_holders
FROM report_apps a
LEFT JOIN w ON w.app = a.app
CROSS JOIN holders
GROUP BY a.app, a.ord
ORDER BY a.ord;
