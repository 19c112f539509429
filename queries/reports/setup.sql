-- Working tables for one report, built once from the public views and read by
-- every queries/reports/*.sql file, so each definition below holds report-wide.
--
-- Before this runs, m365audit/report/context.py creates report_params (as_of:
-- the snapshot the report describes; department: NULL = everyone; idle_days:
-- the policy's inactive_after_days) and report_prices (sku_id, monthly_price).
-- Activity counts up to as_of only, so the report is a picture at one moment.

-- The apps managers ask about, as columns of the report: each product of copilot_apps
-- (copilot_interactions.app, derived once when a record lands) falls in one of them.
-- Word to Teams are themselves; Copilot Chat at work and on the web are Copilot Chat; the
-- other apps (OneNote, Loop, Whiteboard, hosts not known yet) are Other, never dropped.
CREATE OR REPLACE TEMP TABLE report_apps (app VARCHAR, ord INTEGER);
INSERT INTO report_apps VALUES ('Word', 1), ('Excel', 2), ('PowerPoint', 3), ('Outlook', 4), ('Teams', 5),
    ('Copilot Chat', 6), ('Other', 7);

CREATE OR REPLACE TEMP TABLE report_app_groups AS
SELECT c.app, coalesce(r.app, CASE WHEN c.product = 'Copilot Chat' THEN 'Copilot Chat' ELSE 'Other' END) AS report_app
FROM copilot_apps c LEFT JOIN report_apps r ON r.app = c.app;

-- Everyone in the directory at as_of, to resolve audit records to users.
CREATE OR REPLACE TEMP TABLE report_directory AS
SELECT user_id, lower(user_principal_name) AS upn_key, user_principal_name, display_name,
       coalesce(nullif(trim(department), ''), '(no department)') AS department, account_enabled, user_type
FROM users_at((SELECT as_of FROM report_params));

-- The users this report is about (one department, or everyone).
CREATE OR REPLACE TEMP TABLE report_users AS
SELECT * FROM report_directory
WHERE (SELECT department FROM report_params) IS NULL
   OR lower(department) = lower((SELECT department FROM report_params));

-- Users holding a working Copilot seat at as_of, and since when (assignedPlans).
CREATE OR REPLACE TEMP TABLE report_seats AS
WITH held AS (
    SELECT user_id, arg_min(sku_id, sku_part_number) AS sku_id, min(sku_part_number) AS sku_part_number
    FROM licence_assignments_at((SELECT as_of FROM report_params))
    WHERE holds_copilot_seat
    GROUP BY user_id
),
since AS (
    SELECT p.user_id, min(p.assigned_at) AS licensed_since
    FROM assigned_plan_versions p
    JOIN reference_service_plans r ON r.service_plan_id = p.service_plan_id AND r.role = 'copilot_seat'
    WHERE p.valid_from <= (SELECT as_of FROM report_params)
      AND (p.valid_to IS NULL OR p.valid_to > (SELECT as_of FROM report_params))
    GROUP BY p.user_id
)
SELECT u.*, h.sku_id, h.sku_part_number, s.licensed_since
FROM held h JOIN report_users u USING (user_id) LEFT JOIN since s USING (user_id);

-- Copilot use (the view copilot_use: people's Microsoft 365 Copilot and Copilot Chat
-- records) up to as_of, resolved to users by id, else by sign-in name.
CREATE OR REPLACE TEMP TABLE report_interactions AS
SELECT i.record_id, i.created_at,
       coalesce(i.user_id, d.user_id) AS user_id,
       coalesce(i.user_id, d.user_id, 'upn:' || lower(i.user_principal_name)) AS person,
       lower(i.user_principal_name) AS upn_key,
       coalesce(g.report_app, 'Other') AS app
FROM copilot_use i
LEFT JOIN report_directory d ON i.user_id IS NULL AND d.upn_key = lower(i.user_principal_name)
LEFT JOIN report_app_groups g ON g.app = i.app
WHERE i.created_at <= (SELECT as_of FROM report_params)
  AND ((SELECT department FROM report_params) IS NULL
       OR coalesce(i.user_id, d.user_id) IN (SELECT user_id FROM report_users));

-- What each activity source covers (whole tenant, not only the department).
CREATE OR REPLACE TEMP TABLE report_coverage AS
SELECT
    (SELECT min(created_at) FROM copilot_interactions) AS audit_from,
    (SELECT max(created_at) FROM copilot_interactions) AS audit_to,
    (SELECT count(*) FROM copilot_interactions) AS audit_records,
    (SELECT max(report_refresh_date) FROM copilot_usage) AS usage_refresh_date,
    (SELECT max(report_period) FROM copilot_usage) AS usage_period,
    (SELECT count(*) FROM copilot_usage) AS usage_rows,
    coalesce((SELECT bool_or(names_concealed) FROM copilot_usage), false) AS usage_concealed;

-- Microsoft's usage report rows that can be joined to the directory (not concealed).
CREATE OR REPLACE TEMP TABLE report_usage AS
SELECT d.user_id, c.*
FROM copilot_usage c
JOIN report_directory d ON d.upn_key = lower(c.user_principal_name)
WHERE NOT c.names_concealed
  AND ((SELECT department FROM report_params) IS NULL OR d.user_id IN (SELECT user_id FROM report_users));

-- Last Copilot activity per person and app, from the audit log.
CREATE OR REPLACE TEMP TABLE report_activity AS
SELECT person, any_value(user_id) AS user_id, min(created_at) AS first_at, max(created_at) AS last_at,
       max(created_at) FILTER (WHERE app = 'Word') AS word_at,
       max(created_at) FILTER (WHERE app = 'Excel') AS excel_at,
       max(created_at) FILTER (WHERE app = 'PowerPoint') AS powerpoint_at,
       max(created_at) FILTER (WHERE app = 'Outlook') AS outlook_at,
       max(created_at) FILTER (WHERE app = 'Teams') AS teams_at,
       max(created_at) FILTER (WHERE app = 'Copilot Chat') AS copilot_chat_at,
       max(created_at) FILTER (WHERE app = 'Other') AS other_at
FROM report_interactions
GROUP BY person;

-- Every seat holder with their last activity by app. Both sources count, so a seat
-- is never called idle while either the audit log or Microsoft's report shows use.
-- "active_*" follow the audit log when it was collected, else the usage report.
-- A seat is reclaimable when unused for idle_days and held at least that long.
CREATE OR REPLACE TEMP TABLE report_seat_status AS
WITH joined AS (
    SELECT s.*, a.first_at,
        greatest(a.last_at::DATE, u.last_activity_date) AS last_active_on,
        greatest(a.word_at::DATE, u.word_copilot_last_activity_date) AS word_on,
        greatest(a.excel_at::DATE, u.excel_copilot_last_activity_date) AS excel_on,
        greatest(a.powerpoint_at::DATE, u.powerpoint_copilot_last_activity_date) AS powerpoint_on,
        greatest(a.outlook_at::DATE, u.outlook_copilot_last_activity_date) AS outlook_on,
        greatest(a.teams_at::DATE, u.teams_copilot_last_activity_date) AS teams_on,
        greatest(a.copilot_chat_at::DATE, u.copilot_chat_last_activity_date) AS copilot_chat_on,
        greatest(a.other_at::DATE, u.onenote_copilot_last_activity_date,
                 u.loop_copilot_last_activity_date) AS other_on,
        CASE WHEN c.audit_records > 0 THEN a.last_at ELSE u.last_activity_date::TIMESTAMPTZ END AS counted_at,
        c.audit_records > 0 OR c.usage_rows > 0 AS has_activity_data,
        p.as_of, p.idle_days
    FROM report_seats s
    LEFT JOIN report_activity a ON a.person = s.user_id
    LEFT JOIN report_usage u ON u.user_id = s.user_id
    CROSS JOIN report_coverage c
    CROSS JOIN report_params p
)
SELECT *,
    has_activity_data AND counted_at > as_of - INTERVAL 7 DAY AS active_7,
    has_activity_data AND counted_at > as_of - INTERVAL 30 DAY AS active_30,
    has_activity_data AND counted_at > as_of - INTERVAL 90 DAY AS active_90,
    has_activity_data
        AND coalesce(last_active_on <= as_of::DATE - idle_days, true)
        AND coalesce(licensed_since <= as_of - to_days(idle_days), true) AS reclaimable
FROM joined;

-- Seats per Copilot SKU: purchased and assigned for the whole tenant; holders and
-- reclaimable seats for the report's users; the policy's monthly price.
CREATE OR REPLACE TEMP TABLE report_sku_seats AS
SELECT k.sku_id, k.sku_part_number, coalesce(k.purchased, 0) AS purchased, coalesce(k.assigned, 0) AS assigned,
    (SELECT count(DISTINCT a.user_id) FROM licence_assignments_at((SELECT as_of FROM report_params)) a
     WHERE a.holds_copilot_seat AND a.sku_id = k.sku_id) AS holders_all,
    (SELECT count(*) FROM report_seat_status s WHERE s.sku_id = k.sku_id) AS holders,
    (SELECT count(*) FROM report_seat_status s WHERE s.sku_id = k.sku_id AND s.reclaimable) AS reclaimable,
    p.monthly_price
FROM skus_at((SELECT as_of FROM report_params)) k
LEFT JOIN report_prices p ON p.sku_id = k.sku_id
WHERE k.is_copilot;
