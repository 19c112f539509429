-- id: licence_copilot_seats_used
-- title: Every Copilot seat has been used within the last inactive_after_days days
-- severity: low
-- clause: [licences] inactive_after_days
-- rationale: An idle seat costs the same as a used one. A seat counts as used when the audit log or
--   Microsoft's usage report shows Copilot activity by its holder within inactive_after_days of the
--   check date; a seat assigned more recently than that is not yet judged.
-- remediation: Owner: the Copilot service owner with each person's line manager. Ask whether the person still
--   needs Copilot; if not, remove them from the Copilot group so the seat returns to the pool and give it to
--   someone on the reassign list. Seats held for a known reason (long leave, a pilot) belong in the policy
--   file's [[exceptions]] with an end date.
-- reads: copilot_seat_holders, copilot_use, copilot_usage
-- needs: licence_snapshot, copilot_activity
WITH audit_last AS (
    SELECT lower(user_principal_name) AS upn, max(created_at)::DATE AS last_day
    FROM copilot_use
    GROUP BY ALL
),
usage_last AS (
    SELECT lower(user_principal_name) AS upn, max(last_activity_date) AS last_day
    FROM copilot_usage
    WHERE NOT names_concealed
    GROUP BY ALL
),
holders AS (
    SELECT h.user_principal_name, h.seat_since::DATE AS seat_day,
           greatest(a.last_day, u.last_day) AS last_day
    FROM copilot_seat_holders h
    LEFT JOIN audit_last a ON a.upn = lower(h.user_principal_name)
    LEFT JOIN usage_last u ON u.upn = lower(h.user_principal_name)
)
SELECT
    user_principal_name AS subject,
    CASE WHEN last_day IS NULL THEN 'no Copilot activity recorded'
         ELSE 'last Copilot activity ' || strftime(last_day, '%Y-%m-%d') END
        || coalesce('; seat since ' || strftime(seat_day, '%Y-%m-%d'), '')
        || '; idle limit ' || $inactive_after_days::INTEGER || ' days' AS detail
FROM holders
WHERE greatest(last_day, seat_day) IS NULL
   OR greatest(last_day, seat_day) < $check_date::DATE - $inactive_after_days::INTEGER
ORDER BY subject;
