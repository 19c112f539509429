-- Copilot usage report, version 2, and the user-count reports.
--
-- getMicrosoft365CopilotUsageUserDetail(period, version='v2') adds prompt counts,
-- active usage days, Copilot Chat (work) and (web), Microsoft 365 Copilot, Edge and
-- agent last activity to the v1 columns (Microsoft 365 Copilot APIs reference,
-- "copilotReportRoot: getMicrosoft365CopilotUsageUserDetail", section "Report
-- versions"). The v1 columns stay as they were; v2 columns are NULL in v1 rows.
ALTER TABLE usage_report_rows ADD COLUMN report_version VARCHAR;            -- v1 or v2 (NULL: loaded before 030, v1)
ALTER TABLE usage_report_rows ADD COLUMN prompts_submitted BIGINT;          -- Prompts submitted for all apps
ALTER TABLE usage_report_rows ADD COLUMN copilot_chat_work_prompts_submitted BIGINT;
ALTER TABLE usage_report_rows ADD COLUMN copilot_chat_web_prompts_submitted BIGINT;
ALTER TABLE usage_report_rows ADD COLUMN active_usage_days INTEGER;         -- Active Usage Days for all apps
ALTER TABLE usage_report_rows ADD COLUMN copilot_chat_work_last_activity_date DATE;
ALTER TABLE usage_report_rows ADD COLUMN copilot_chat_web_last_activity_date DATE;
ALTER TABLE usage_report_rows ADD COLUMN microsoft_365_copilot_last_activity_date DATE;
ALTER TABLE usage_report_rows ADD COLUMN edge_copilot_last_activity_date DATE;
ALTER TABLE usage_report_rows ADD COLUMN agent_last_activity_date DATE;

-- getMicrosoft365CopilotUserCountSummary (report = 'summary', one row per app) and
-- getMicrosoft365CopilotUserCountTrend (report = 'trend', one row per app and day):
-- enabled and active users per app, tenant-wide aggregates from Microsoft.
CREATE TABLE usage_user_counts (
    run_id               VARCHAR NOT NULL,
    source               VARCHAR NOT NULL,   -- graph-v1.0, graph-beta
    report               VARCHAR NOT NULL,   -- summary or trend
    report_version       VARCHAR NOT NULL,   -- v1 or v2
    report_refresh_date  DATE NOT NULL,
    report_period        INTEGER,            -- days
    report_date          DATE,               -- the day (trend only)
    app                  VARCHAR NOT NULL,   -- Microsoft's product name, e.g. Word, Copilot Chat (work), Any App
    enabled_users        BIGINT,
    active_users         BIGINT,
    prompts_submitted    BIGINT,             -- v2, on the 'Any App' row: total (summary) or that day's (trend)
    average_prompts      DOUBLE,             -- v2 summary, on the 'Any App' row
    collected_at         TIMESTAMPTZ NOT NULL
);
