-- id: agents_not_on_prohibited_sites
-- title: No agent is used on or with content from the prohibited sites
-- severity: critical
-- clause: [usage] prohibited_sites
-- rationale: An agent that reads safeguarding, legal or disciplinary material, or is invoked in a
--   document on such a site, puts that material behind a chat anyone with the agent can open. A site
--   matches its own address and everything below it (case-insensitive), as for Copilot itself.
--   One finding per agent, whoever or whatever ran it.
-- remediation: Owner: the agent's owner with the SharePoint administrator and the site owner. Remove the
--   prohibited site from the agent's knowledge sources, turn on Restricted Content Discovery for the site
--   (SharePoint admin centre > Sites > Active sites > the site > Settings), and block the agent in the
--   Microsoft 365 admin centre > Agents until both are done; safeguarding material read by an agent is
--   reported to the designated safeguarding lead.
-- reads: agent_interactions, copilot_accessed_resources, copilot_contexts
-- needs: audit_records
WITH touched AS (
    SELECT record_id, site_url AS url, 'read' AS how FROM copilot_accessed_resources
    UNION ALL
    SELECT record_id, context_id AS url, 'invoked in' AS how FROM copilot_contexts
),
hits AS (
    SELECT a.agent_key, a.record_id, a.created_at, t.how, site
    FROM touched t
    JOIN agent_interactions a USING (record_id)
    CROSS JOIN unnest($prohibited_sites::VARCHAR[]) AS p(site)
    WHERE lower(t.url) = site OR starts_with(lower(t.url), site || '/') OR starts_with(lower(t.url), site || '?')
),
names AS (
    SELECT agent_key, arg_max(agent_name, created_at) FILTER (WHERE agent_name IS NOT NULL) AS agent_name
    FROM agent_interactions GROUP BY agent_key
)
SELECT
    coalesce(n.agent_name, h.agent_key) AS subject,
    'agent ' || string_agg(DISTINCT h.how, ' and ' ORDER BY h.how) || ' content on '
        || string_agg(DISTINCT h.site, ', ' ORDER BY h.site) || ' in ' || count(DISTINCT h.record_id)
        || ' interaction(s), last ' || strftime(max(h.created_at), '%Y-%m-%d') AS detail
FROM hits h JOIN names n USING (agent_key)
GROUP BY subject
ORDER BY subject;
