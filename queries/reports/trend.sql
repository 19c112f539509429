-- table: trend
-- title: Seats over time
-- One point per stored licence snapshot (the last of each day; of each week when there
-- are more than 120 days), up to the report's snapshot. Active seat holders are those
-- with Copilot activity in the audit log in the 30 days before that snapshot, so points
-- before the audit log's start undercount. Department filters use today's departments.
--   snapshot_at (datetime): Snapshot
--   purchased (int): Seats purchased
--   assigned (int): Seats assigned
--   seat_holders (int): Seat holders
--   active_seat_holders (int): Active seat holders (30 days)
WITH days AS (
    SELECT count(DISTINCT taken_at::DATE) AS n FROM snapshots
    WHERE taken_at <= (SELECT as_of FROM report_params)
),
points AS (
    SELECT max(taken_at) AS ts
    FROM snapshots
    WHERE taken_at <= (SELECT as_of FROM report_params)
    GROUP BY CASE WHEN (SELECT n FROM days) > 120 THEN date_trunc('week', taken_at)::DATE
                  ELSE taken_at::DATE END
)
SELECT p.ts AS snapshot_at,
       CASE WHEN (SELECT department FROM report_params) IS NULL
            THEN (SELECT coalesce(sum(purchased), 0) FROM skus_at(p.ts) WHERE is_copilot) END AS purchased,
       CASE WHEN (SELECT department FROM report_params) IS NULL
            THEN (SELECT coalesce(sum(assigned), 0) FROM skus_at(p.ts) WHERE is_copilot) END AS assigned,
       (SELECT count(DISTINCT a.user_id) FROM licence_assignments_at(p.ts) a
        WHERE a.holds_copilot_seat AND ((SELECT department FROM report_params) IS NULL
                 OR a.user_id IN (SELECT user_id FROM report_users))) AS seat_holders,
       CASE WHEN (SELECT audit_records FROM report_coverage) > 0 THEN
           (SELECT count(DISTINCT a.user_id) FROM licence_assignments_at(p.ts) a
            WHERE a.holds_copilot_seat AND ((SELECT department FROM report_params) IS NULL
                 OR a.user_id IN (SELECT user_id FROM report_users))
              AND a.user_id IN (SELECT i.user_id FROM report_interactions i
                                WHERE i.created_at > p.ts - INTERVAL 30 DAY AND i.created_at <= p.ts)) END
           AS active_seat_holders
FROM points p
ORDER BY p.ts;
