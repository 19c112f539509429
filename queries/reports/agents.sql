-- table: agents
-- title: Agents
-- Every agent the audit log names, to the report's date, with the people who used it in the
-- last 30 days and the 30 days before (the trend), what it read, and a verdict by a stated rule
-- (agent_verdict in queries/views/050_agents.sql): Review when it read content with one of the
-- policy's restricted labels; else Retire when nobody used it in the last 30 days; else Keep.
-- Tenant-wide (an agent serves every department); no person is named.
--   agent_name (text): Agent
--   agent_id (text, key): Agent id
--   kind (text): Kind
--   users_30d (int): Users, last 30 days
--   users_prev_30d (int): Users, 30 days before
--   trend (text): Trend
--   interactions_30d (int): Interactions, last 30 days
--   last_used (date): Last used by a person
--   first_seen (date): First seen
--   apps (text): Used in
--   resources_read (int): Items read
--   labelled_resources_read (int): Labelled items read
--   restricted_resources_read (int): Restricted items read
--   verdict (text): Verdict
--   rule (text): Rule
SELECT agent_name, agent_id, kind, users_30d, users_prev_30d,
       CASE WHEN users_30d > users_prev_30d AND users_prev_30d = 0 THEN 'new'
            WHEN users_30d > users_prev_30d THEN 'rising'
            WHEN users_30d < users_prev_30d THEN 'falling'
            ELSE 'steady' END AS trend,
       interactions_30d, last_used::DATE AS last_used, first_seen::DATE AS first_seen, apps, resources_read,
       labelled_resources_read, restricted_resources_read,
       agent_verdict(users_30d, restricted_resources_read) AS verdict,
       agent_verdict_rule(users_30d, restricted_resources_read) AS rule
FROM copilot_agents_at((SELECT as_of FROM report_params), (SELECT restricted_labels FROM report_params))
ORDER BY CASE agent_verdict(users_30d, restricted_resources_read) WHEN 'Review' THEN 1 WHEN 'Retire' THEN 2 ELSE 3 END,
         users_30d DESC, agent_name, agent_id;
