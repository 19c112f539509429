-- Daily activity totals: live per-user rows plus the totals kept after retention removed them.

-- view: copilot_activity_daily
-- Copilot interactions per UTC day, department, app and record type; complete even after retention has removed who did what.
--   day: UTC day
--   department: the user's department (latest known; NULL when the user is unknown)
--   app: the product (copilot_interactions.app)
--   app_host: CopilotEventData.AppHost as received
--   record_type: CopilotInteraction, AIAppInteraction, ...
--   active_users: distinct users that day (summed across summaries for records that arrived after their day was summarised)
--   interactions: audit records
CREATE OR REPLACE VIEW copilot_activity_daily AS
WITH
purged AS (
    SELECT coalesce(max(try_cast(value AS TIMESTAMPTZ)), TIMESTAMPTZ '1970-01-01') AS before
    FROM collection_state WHERE source = 'retention' AND key = 'activity_purged_before'
),
departments AS (
    SELECT user_id, arg_max(department, valid_from) AS department FROM user_versions GROUP BY user_id
),
live AS (
    SELECT (f.created_at AT TIME ZONE 'UTC')::DATE AS day, d.department, f.app, f.app_host, f.record_type,
           count(DISTINCT coalesce(f.user_id, f.user_principal_name)) AS active_users, count(*) AS interactions
    FROM copilot_interaction_facts f
    LEFT JOIN departments d ON d.user_id = f.user_id
    WHERE f.created_at >= (SELECT before FROM purged)
    GROUP BY ALL
),
kept AS (
    SELECT day, department, app, app_host, record_type, active_users, interactions FROM copilot_activity_daily_totals
)
SELECT day, department, app, app_host, record_type,
       CAST(sum(active_users) AS BIGINT) AS active_users, CAST(sum(interactions) AS BIGINT) AS interactions
FROM (SELECT * FROM live UNION ALL SELECT * FROM kept)
GROUP BY ALL;
