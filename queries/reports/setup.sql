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
        a.last_at::DATE AS audit_last_on, u.last_activity_date AS usage_last_on, u.report_version,
        u.report_period AS usage_period, u.report_refresh_date AS usage_refresh_date,
        u.active_usage_days, u.prompts_submitted,
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
        AND coalesce(licensed_since <= as_of - to_days(idle_days), true)
        -- usage report v2: use on any day of a period no longer than the idle limit is recent use
        AND NOT coalesce(usage_period <= idle_days AND (active_usage_days > 0 OR prompts_submitted > 0), false)
        AS reclaimable,
    -- Which signal decided a reclaimable row: the account, the v2 report's active days and prompts
    -- (when the report is v2), else whichever source saw the later use, else that neither saw any.
    CASE WHEN NOT coalesce(account_enabled, true) THEN 'account disabled'
         WHEN report_version = 'v2' AND active_usage_days IS NOT NULL
             THEN 'usage report v2: ' || active_usage_days || ' active day(s), ' || coalesce(prompts_submitted, 0)
                  || ' prompt(s) in the ' || usage_period || ' days to ' || strftime(usage_refresh_date, '%Y-%m-%d')
         WHEN audit_last_on IS NOT NULL AND audit_last_on >= coalesce(usage_last_on, audit_last_on)
             THEN 'audit log: last use ' || strftime(audit_last_on, '%Y-%m-%d')
         WHEN usage_last_on IS NOT NULL THEN 'usage report: last activity ' || strftime(usage_last_on, '%Y-%m-%d')
         ELSE 'no use in the audit log or the usage report' END AS decided_by
FROM joined;

-- People without a Microsoft 365 Copilot seat who may use Copilot Chat (copilot_chat_entitlement_at:
-- enabled member accounts), among the report's users, with their Copilot Chat use in the 30 days
-- to as_of: from the audit log (copilot_use, through report_interactions: days with use, prompts,
-- a record whose messages name no prompt counting as one) and, when the usage report is v2 and
-- holds them (it covers people who held a seat in its period), its active days and Copilot Chat
-- prompts. The larger of the two counts; signal says which source gave the days. Training follows
-- the policy's training_group (NULL: no requirement).
CREATE OR REPLACE TEMP TABLE report_chat_candidates AS
WITH params AS (SELECT as_of, as_of - INTERVAL 30 DAY AS since, training_group FROM report_params),
prompts AS (
    SELECT record_id, count(*) FILTER (WHERE is_prompt) AS n FROM copilot_messages GROUP BY record_id
),
audit AS (
    SELECT i.user_id, count(DISTINCT i.created_at::DATE) AS days, sum(coalesce(nullif(p.n, 0), 1)) AS prompts,
           max(i.created_at)::DATE AS last_on
    FROM report_interactions i LEFT JOIN prompts p USING (record_id)
    WHERE i.user_id IS NOT NULL AND i.created_at > (SELECT since FROM params)
    GROUP BY i.user_id
),
v2 AS (
    SELECT user_id, active_usage_days AS days,
           coalesce(copilot_chat_work_prompts_submitted, 0) + coalesce(copilot_chat_web_prompts_submitted, 0) AS prompts,
           greatest(copilot_chat_work_last_activity_date, copilot_chat_web_last_activity_date) AS last_on
    FROM report_usage WHERE report_version = 'v2' AND active_usage_days IS NOT NULL
),
trained AS (
    SELECT DISTINCT g.user_id FROM group_members g, params p
    WHERE lower(g.group_name) = p.training_group OR lower(g.group_id) = p.training_group
)
SELECT u.user_id, u.display_name, u.user_principal_name, u.department,
       greatest(a.days, v.days) AS days_active, greatest(a.prompts, v.prompts) AS prompts,
       greatest(a.last_on, v.last_on) AS last_used,
       CASE WHEN coalesce(v.days, -1) > coalesce(a.days, -1) THEN 'usage report v2'
            WHEN v.days = a.days THEN 'audit log and usage report v2' ELSE 'audit log' END AS signal,
       CASE WHEN (SELECT training_group FROM params) IS NULL THEN 'no training requirement'
            WHEN t.user_id IS NOT NULL THEN 'trained' ELSE 'not trained' END AS training
FROM copilot_chat_entitlement_at((SELECT as_of FROM params)) e
JOIN report_users u USING (user_id)
LEFT JOIN audit a USING (user_id)
LEFT JOIN v2 v USING (user_id)
LEFT JOIN trained t USING (user_id)
WHERE NOT e.holds_copilot_seat AND greatest(a.days, v.days) > 0;

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
