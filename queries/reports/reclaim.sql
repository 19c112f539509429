-- table: reclaim
-- title: Seats to reclaim
-- Seat holders with no Copilot activity for the policy's inactive_after_days who have
-- held the seat at least that long, longest idle first. Last activity by app takes the
-- later of the audit log and Microsoft's usage report. When the usage report is version 2, its
-- active usage days and prompts in its period count too (use on any day of a period no longer
-- than the idle limit keeps the seat), and they are the signal that decided the row; decided_by
-- names the signal for every row (setup.sql, report_seat_status).
--   display_name (text, personal): User
--   user_principal_name (text, personal): Sign-in name
--   department (text): Department
--   sku_part_number (text): Licence
--   licensed_since (date): Licensed since
--   account_enabled (bool): Account enabled
--   last_activity (date): Last Copilot activity
--   word (date): Word
--   excel (date): Excel
--   powerpoint (date): PowerPoint
--   outlook (date): Outlook
--   teams (date): Teams
--   copilot_chat (date): Copilot Chat
--   other (date): Other apps
--   days_idle (int): Days idle
--   reason (text): Reason
--   active_usage_days (int): Active days (usage report v2)
--   prompts (int): Prompts (usage report v2)
--   decided_by (text): Decided by
--   monthly_cost (money): Monthly cost
SELECT s.display_name, s.user_principal_name, s.department, s.sku_part_number,
       s.licensed_since::DATE AS licensed_since, s.account_enabled,
       s.last_active_on AS last_activity,
       s.word_on AS word, s.excel_on AS excel, s.powerpoint_on AS powerpoint, s.outlook_on AS outlook,
       s.teams_on AS teams, s.copilot_chat_on AS copilot_chat, s.other_on AS other,
       s.as_of::DATE - coalesce(s.last_active_on, s.licensed_since::DATE) AS days_idle,
       CASE WHEN NOT coalesce(s.account_enabled, true) THEN 'account disabled'
            WHEN s.last_active_on IS NULL THEN 'never used Copilot'
            ELSE 'no Copilot use for ' || (s.as_of::DATE - s.last_active_on) || ' days' END AS reason,
       s.active_usage_days, s.prompts_submitted AS prompts, s.decided_by,
       p.monthly_price AS monthly_cost
FROM report_seat_status s
LEFT JOIN report_prices p ON p.sku_id = s.sku_id
WHERE s.reclaimable
ORDER BY days_idle DESC NULLS FIRST, s.department, s.user_principal_name;
