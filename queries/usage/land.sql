-- Write the prepared Copilot usage report (queries/usage/prepare.sql) to usage_report_rows:
-- only rows in scope. The loader sets usage_run_id, usage_source, usage_version and
-- usage_collected_at, and runs this in the load's transaction.
INSERT INTO usage_report_rows (
    run_id, source, report_refresh_date, report_period, user_principal_name, display_name, names_concealed,
    last_activity_date, copilot_chat_last_activity_date, teams_copilot_last_activity_date,
    word_copilot_last_activity_date, excel_copilot_last_activity_date, powerpoint_copilot_last_activity_date,
    outlook_copilot_last_activity_date, onenote_copilot_last_activity_date, loop_copilot_last_activity_date,
    collected_at, report_version, prompts_submitted, copilot_chat_work_prompts_submitted,
    copilot_chat_web_prompts_submitted, active_usage_days, copilot_chat_work_last_activity_date,
    copilot_chat_web_last_activity_date, microsoft_365_copilot_last_activity_date,
    edge_copilot_last_activity_date, agent_last_activity_date)
SELECT getvariable('usage_run_id'), getvariable('usage_source'), report_refresh_date, report_period,
       user_principal_name, display_name, concealed,
       last_activity_date, copilot_chat_last_activity_date, teams_copilot_last_activity_date,
       word_copilot_last_activity_date, excel_copilot_last_activity_date, powerpoint_copilot_last_activity_date,
       outlook_copilot_last_activity_date, onenote_copilot_last_activity_date, loop_copilot_last_activity_date,
       getvariable('usage_collected_at'), getvariable('usage_version'), prompts_submitted,
       copilot_chat_work_prompts_submitted, copilot_chat_web_prompts_submitted, active_usage_days,
       copilot_chat_work_last_activity_date, copilot_chat_web_last_activity_date,
       microsoft_365_copilot_last_activity_date, edge_copilot_last_activity_date, agent_last_activity_date
FROM usage_prepared
WHERE in_scope;
