-- table: adoption_weeks
-- title: Active Copilot users by week and app
-- People who used Copilot in each app, by week (Monday to Sunday, UTC) over the
-- period the audit log covers. The first and last weeks may be partial.
--   week_start (date): Week starting
--   word (int): Word
--   excel (int): Excel
--   powerpoint (int): PowerPoint
--   outlook (int): Outlook
--   teams (int): Teams
--   copilot_chat (int): Copilot Chat
--   other (int): Other apps
--   all_apps (int): Any app
--   interactions (int): Interactions
SELECT date_trunc('week', created_at)::DATE AS week_start,
       count(DISTINCT person) FILTER (WHERE app = 'Word') AS word,
       count(DISTINCT person) FILTER (WHERE app = 'Excel') AS excel,
       count(DISTINCT person) FILTER (WHERE app = 'PowerPoint') AS powerpoint,
       count(DISTINCT person) FILTER (WHERE app = 'Outlook') AS outlook,
       count(DISTINCT person) FILTER (WHERE app = 'Teams') AS teams,
       count(DISTINCT person) FILTER (WHERE app = 'Copilot Chat') AS copilot_chat,
       count(DISTINCT person) FILTER (WHERE app = 'Other') AS other,
       count(DISTINCT person) AS all_apps,
       count(*) AS interactions
FROM report_interactions
GROUP BY week_start
ORDER BY week_start;
