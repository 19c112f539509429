-- Views over Microsoft's Copilot usage reports (Microsoft 365 Copilot APIs reference,
-- copilotReportRoot: getMicrosoft365CopilotUsageUserDetail, ...UserCountSummary and
-- ...UserCountTrend). These reports cover people with a Microsoft 365 Copilot licence
-- only: unlicensed Copilot Chat use is in the audit log, not here.

-- view: usage_report_current
-- The usage report the other views show (one row): the one with the newest Report Refresh
-- Date; among reports of the same date, the one collected or imported last. An older report
-- imported later never replaces a newer one.
--   run_id: the collection or import run that stored it
--   report_refresh_date: the report's data date
--   report_version: v1 or v2 (NULL for reports stored before version 2 was known: v1)
--   source: graph-v1.0, graph-beta, graph-legacy or admin-centre-csv
--   collected_at: when it was collected or imported
CREATE OR REPLACE VIEW usage_report_current AS
SELECT run_id, report_refresh_date, report_version, source, collected_at
FROM (SELECT run_id, max(report_refresh_date) AS report_refresh_date, max(report_version) AS report_version,
             max(source) AS source, max(collected_at) AS collected_at
      FROM usage_report_rows GROUP BY run_id)
ORDER BY report_refresh_date DESC NULLS LAST, collected_at DESC
LIMIT 1;

-- view: copilot_usage
-- Microsoft's Copilot usage report (licensed users only), one row per user (and per period
-- when the report was asked for ALL periods): the report with the newest Report Refresh Date.
-- When names are concealed the rows cannot be matched to users: never join them on
-- user_principal_name (names_concealed says so). In a database collected for a --scope, only
-- rows of the scope's users are stored, and concealed rows are not stored at all.
--   user_principal_name: UPN, or a 32-hex hash when the tenant conceals names
--   names_concealed: true when the report's names are hashed (they cannot be joined to users)
--   report_refresh_date: the report's data date
--   report_period: days covered
--   last_activity_date: last Copilot activity in any app (NULL = never)
--   copilot_chat_last_activity_date: last Copilot Chat activity
--   teams_copilot_last_activity_date: last Copilot in Teams activity
--   word_copilot_last_activity_date: last Copilot in Word activity
--   excel_copilot_last_activity_date: last Copilot in Excel activity
--   powerpoint_copilot_last_activity_date: last Copilot in PowerPoint activity
--   outlook_copilot_last_activity_date: last Copilot in Outlook activity
--   onenote_copilot_last_activity_date: last Copilot in OneNote activity
--   loop_copilot_last_activity_date: last Copilot in Loop activity
--   report_version: v1 or v2 (the columns below are NULL in a v1 report)
--   prompts_submitted: v2 "Prompts submitted for all apps" in the period
--   copilot_chat_work_prompts_submitted: v2 "Prompts submitted for Copilot Chat (work)"
--   copilot_chat_web_prompts_submitted: v2 "Prompts submitted for Copilot Chat (web)"
--   active_usage_days: v2 "Active Usage Days for all apps" in the period
--   copilot_chat_work_last_activity_date: v2 "Copilot Chat (work) Last Activity Date"
--   copilot_chat_web_last_activity_date: v2 "Copilot Chat (web) Last Activity Date"
--   microsoft_365_copilot_last_activity_date: v2 "Microsoft 365 Copilot Last Activity Date"
--   edge_copilot_last_activity_date: v2 "Edge Last Activity Date"
--   agent_last_activity_date: v2 "Copilot Agent Last Activity Date"
CREATE OR REPLACE VIEW copilot_usage AS
SELECT user_principal_name, names_concealed, report_refresh_date, report_period, last_activity_date,
       copilot_chat_last_activity_date, teams_copilot_last_activity_date, word_copilot_last_activity_date,
       excel_copilot_last_activity_date, powerpoint_copilot_last_activity_date,
       outlook_copilot_last_activity_date, onenote_copilot_last_activity_date, loop_copilot_last_activity_date,
       coalesce(report_version, 'v1') AS report_version, prompts_submitted,
       copilot_chat_work_prompts_submitted, copilot_chat_web_prompts_submitted, active_usage_days,
       copilot_chat_work_last_activity_date, copilot_chat_web_last_activity_date,
       microsoft_365_copilot_last_activity_date, edge_copilot_last_activity_date, agent_last_activity_date
FROM usage_report_rows
WHERE run_id = (SELECT run_id FROM usage_report_current);

-- view: copilot_usage_summary
-- Microsoft's Copilot user-count summary (getMicrosoft365CopilotUserCountSummary), latest
-- collection, one row per app: how many people are enabled for Copilot in it (hold a licence
-- that includes it) and how many used it in the period. Tenant-wide figures from Microsoft:
-- a database collected for a --scope does not collect them.
--   app: Microsoft's product name: Any App, Microsoft Teams, Word, Excel, PowerPoint, Outlook, OneNote, Loop, Copilot Chat; v2 adds Edge, Microsoft 365 Copilot, Copilot Chat (work), Copilot Chat (web)
--   enabled_users: "<app> Enabled Users"
--   active_users: "<app> Active Users"
--   prompts_submitted: v2 "Total prompts submitted" (on the Any App row, else NULL)
--   average_prompts: v2 "Average prompts submitted" (on the Any App row, else NULL)
--   report_period: days covered
--   report_refresh_date: the report's data date
--   report_version: v1 or v2
CREATE OR REPLACE VIEW copilot_usage_summary AS
SELECT app, enabled_users, active_users, prompts_submitted, average_prompts, report_period,
       report_refresh_date, report_version
FROM usage_user_counts
WHERE report = 'summary'
  AND run_id = (SELECT run_id FROM usage_user_counts WHERE report = 'summary'
                ORDER BY report_refresh_date DESC, collected_at DESC LIMIT 1);

-- view: copilot_usage_trend
-- Microsoft's daily Copilot user counts (getMicrosoft365CopilotUserCountTrend), latest
-- collection, one row per day and app. Tenant-wide figures from Microsoft: a database
-- collected for a --scope does not collect them.
--   report_date: the day
--   app: Microsoft's product name (as in copilot_usage_summary)
--   enabled_users: people enabled for Copilot in the app that day
--   active_users: people who used Copilot in the app that day
--   prompts_submitted: v2 "Prompts submitted" that day (on the Any App row, else NULL)
--   report_refresh_date: the report's data date
--   report_version: v1 or v2
CREATE OR REPLACE VIEW copilot_usage_trend AS
SELECT report_date, app, enabled_users, active_users, prompts_submitted, report_refresh_date, report_version
FROM usage_user_counts
WHERE report = 'trend'
  AND run_id = (SELECT run_id FROM usage_user_counts WHERE report = 'trend'
                ORDER BY report_refresh_date DESC, collected_at DESC LIMIT 1);
