-- id: agents_approved
-- title: People use only agents the policy approves
-- severity: high
-- clause: [agents] approved, allow_copilot_studio, allow_third_party
-- rationale: The policies permit Microsoft Copilot and require approval for anything else. An agent
--   built in Copilot Studio or as a declarative agent by a member of staff, or one from a third party,
--   is "anything else": it may be grounded in sites holding personal data and answer from them. An
--   agent is approved when the policy names it (by name or id), when it is one of Microsoft's own
--   (Researcher, Analyst), or when its kind is allowed as a whole. One finding per agent names
--   the people who used it (agent_interactions.by_person).
-- remediation: Owner: the Microsoft 365 administrator with the policy's approver (the IT or information
--   governance lead). For each agent listed: approve it (add its name or id to [agents] approved after the
--   assessment the policy requires) or block it for everyone in the Microsoft 365 admin centre > Agents
--   (Copilot > Agents > All agents: select the agent, Block); a Copilot Studio agent can also be turned
--   off by its owner or restricted by a Power Platform data policy. Tell the people named why.
-- reads: agent_interactions
-- needs: audit_records
WITH agents AS (
    SELECT agent_key, arg_max(agent_name, created_at) FILTER (WHERE agent_name IS NOT NULL) AS agent_name,
           arg_max(agent_id, created_at) AS agent_id, arg_max(kind, created_at) AS kind
    FROM agent_interactions GROUP BY agent_key
),
unapproved AS (
    SELECT * FROM agents
    WHERE kind <> 'microsoft'
      AND NOT list_contains($approved_agents::VARCHAR[], lower(coalesce(agent_name, '')))
      AND NOT list_contains($approved_agents::VARCHAR[], lower(coalesce(agent_id, '')))
      AND NOT list_contains($approved_agents::VARCHAR[], lower(agent_key))
      AND NOT (kind = 'copilot studio' AND $allow_copilot_studio)
      AND NOT (kind = 'third party' AND $allow_third_party)
),
uses AS (
    SELECT u.agent_key, count(*) AS interactions,
           count(DISTINCT lower(i.user_principal_name)) AS people, max(i.created_at)::DATE AS last_day,
           list(DISTINCT lower(i.user_principal_name) ORDER BY lower(i.user_principal_name)) AS users
    FROM unapproved u JOIN agent_interactions i USING (agent_key)
    WHERE i.by_person
    GROUP BY u.agent_key
)
SELECT
    coalesce(u.agent_name, u.agent_key) AS subject,
    u.kind || ' agent used in ' || s.interactions || ' interaction(s) by ' || s.people || ' user(s), last '
        || strftime(s.last_day, '%Y-%m-%d') || ': ' || array_to_string(s.users[1:5], ', ')
        || CASE WHEN s.people > 5 THEN ' and ' || (s.people - 5) || ' more' ELSE '' END AS detail
FROM unapproved u JOIN uses s USING (agent_key)
ORDER BY subject;
