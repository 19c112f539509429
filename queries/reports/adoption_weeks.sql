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

-- One (week, app, person) row first: plain counts over it are far faster than
-- count(DISTINCT ...) FILTER over every interaction.
WITH weekly AS (
    SELECT date_trunc('week', created_at)::DATE AS week_start, app, person, count(*) AS interactions
    FROM report_interactions
    GROUP BY ALL
),
per_app AS (
    SELECT week_start,
           count(*) FILTER (WHERE app = 'Word') AS word,
           count(*) FILTER (WHERE app = 'Excel') AS excel,
           count(*) FILTER (WHERE app = 'PowerPoint') AS powerpoint,
           count(*) FILTER (WHERE app = 'Outlook') AS outlook,
           count(*) FILTER (WHERE app = 'Teams') AS teams,
           count(*) FILTER (WHERE app = 'Copilot Chat') AS copilot_chat,
           count(*) FILTER (WHERE app = 'Other') AS other,
           count(DISTINCT person) AS all_apps,
           sum(interactions) AS interactions
    FROM weekly
    GROUP BY week_start
)
SELECT week_start, word, excel, powerpoint, outlook, teams, copilot_chat, other, all_apps, interactions
FROM per_app
ORDER BY week_start;
