-- Copilot seat holders at the latest snapshot, one row per user, with the date
-- the seat was first assigned (from assignedPlans), for checks and reports that
-- ask "who holds a seat, since when".

-- view: copilot_seat_holders
-- One row per user holding a working Copilot seat (licence_assignments.holds_copilot_seat) at the
-- latest snapshot.
--   user_id: Entra object id
--   user_principal_name: sign-in name
--   department: department (NULL when empty)
--   account_enabled: false for blocked accounts
--   user_type: Member or Guest
--   seat_since: when a Copilot seat plan was first assigned to the user (NULL when Graph did not say)
CREATE OR REPLACE VIEW copilot_seat_holders AS
WITH seats AS (
    SELECT DISTINCT user_id FROM licence_assignments WHERE holds_copilot_seat
),
since AS (
    SELECT p.user_id, min(p.assigned_at) AS seat_since
    FROM assigned_plan_versions p
    JOIN reference_service_plans r ON r.service_plan_id = p.service_plan_id AND r.role = 'copilot_seat'
    WHERE p.valid_to IS NULL
    GROUP BY p.user_id
)
SELECT u.user_id, u.user_principal_name, u.department, u.account_enabled, u.user_type,
       since.seat_since
FROM seats
JOIN users u USING (user_id)
LEFT JOIN since USING (user_id);
