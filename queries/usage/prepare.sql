-- Type the staged Copilot usage report (temp table usage_staged, all text, checked by
-- store/usage.py refuse_bad_rows) into usage_prepared: one row per distinct report row
-- (a row given twice is kept once). Empty cells mean "never". A user principal name that
-- is a 32-hex hash, or every row when the tenant's report setting conceals names, is
-- concealed: such rows must never be joined to users by name.
--
-- in_scope: in a database collected for a --scope (usage_scoped), only a row whose user
-- principal name is one of the scope's users (the users view holds only them; compared
-- through m365_upn so pseudonymised databases match too). A concealed row cannot be shown
-- to belong to the scope, so it is never in scope. Rows not in scope are never written.
CREATE OR REPLACE TEMP TABLE usage_prepared AS
WITH typed AS (
    SELECT DISTINCT
           nullif(trim(report_refresh_date), '')::DATE AS report_refresh_date,
           nullif(trim(report_period), '')::INTEGER AS report_period,
           CASE WHEN contains(upn, '@') THEN lower(upn) ELSE upn END AS user_principal_name,
           display_name,
           getvariable('usage_concealed') OR regexp_full_match(upn, '[0-9A-Fa-f]{32}') AS concealed,
           nullif(trim(last_activity_date), '')::DATE AS last_activity_date,
           nullif(trim(copilot_chat_last_activity_date), '')::DATE AS copilot_chat_last_activity_date,
           nullif(trim(teams_copilot_last_activity_date), '')::DATE AS teams_copilot_last_activity_date,
           nullif(trim(word_copilot_last_activity_date), '')::DATE AS word_copilot_last_activity_date,
           nullif(trim(excel_copilot_last_activity_date), '')::DATE AS excel_copilot_last_activity_date,
           nullif(trim(powerpoint_copilot_last_activity_date), '')::DATE AS powerpoint_copilot_last_activity_date,
           nullif(trim(outlook_copilot_last_activity_date), '')::DATE AS outlook_copilot_last_activity_date,
           nullif(trim(onenote_copilot_last_activity_date), '')::DATE AS onenote_copilot_last_activity_date,
           nullif(trim(loop_copilot_last_activity_date), '')::DATE AS loop_copilot_last_activity_date,
           nullif(trim(prompts_submitted), '')::BIGINT AS prompts_submitted,
           nullif(trim(copilot_chat_work_prompts_submitted), '')::BIGINT AS copilot_chat_work_prompts_submitted,
           nullif(trim(copilot_chat_web_prompts_submitted), '')::BIGINT AS copilot_chat_web_prompts_submitted,
           nullif(trim(active_usage_days), '')::INTEGER AS active_usage_days,
           nullif(trim(copilot_chat_work_last_activity_date), '')::DATE AS copilot_chat_work_last_activity_date,
           nullif(trim(copilot_chat_web_last_activity_date), '')::DATE AS copilot_chat_web_last_activity_date,
           nullif(trim(microsoft_365_copilot_last_activity_date), '')::DATE
               AS microsoft_365_copilot_last_activity_date,
           nullif(trim(edge_copilot_last_activity_date), '')::DATE AS edge_copilot_last_activity_date,
           nullif(trim(agent_last_activity_date), '')::DATE AS agent_last_activity_date
    FROM (SELECT *, trim(user_principal_name) AS upn FROM usage_staged)
    WHERE nullif(upn, '') IS NOT NULL
)
SELECT typed.*,
       NOT getvariable('usage_scoped')
       OR (NOT concealed AND lower(m365_upn(user_principal_name)) IN (SELECT lower(user_principal_name) FROM users))
           AS in_scope
FROM typed;
