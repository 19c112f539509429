-- id: agents_no_restricted_content
-- title: No agent read content carrying a restricted sensitivity label
-- severity: high
-- clause: [labels] restricted
-- rationale: An agent grounded in a SharePoint site answers anyone who asks it from what it reads
--   there; content labelled restricted (Highly Confidential, or a sublabel of a restricted label)
--   read by an agent may reach people it was never meant for. One finding per agent, whoever or
--   whatever ran it (a program running an agent reads with its own permissions).
-- remediation: Owner: the agent's owner with the SharePoint administrator and the data protection officer.
--   Remove the restricted sites or files from the agent's knowledge sources (Copilot Studio > the agent >
--   Knowledge, or the declarative agent's manifest), or block the agent in the Microsoft 365 admin centre >
--   Agents until it is fixed; then check whether answers reached people without access to the content
--   (a possible personal data incident under the policy).
-- reads: agent_interactions, copilot_accessed_resources, sensitivity_labels
-- needs: audit_records, restricted_labels
WITH restricted AS (
    -- The rule of labels_copilot_no_restricted_content.sql and of the table macro restricted_labels_of
    -- (queries/views/050_agents.sql); checks also run on Spark SQL, which has no table macros.
    SELECT l.label_id, l.name
    FROM sensitivity_labels l
    LEFT JOIN sensitivity_labels parent ON parent.label_id = l.parent_id
    WHERE list_contains($restricted_labels::VARCHAR[], lower(l.name))
       OR list_contains($restricted_labels::VARCHAR[], lower(l.label_id))
       OR list_contains($restricted_labels::VARCHAR[], lower(parent.name))
       OR list_contains($restricted_labels::VARCHAR[], lower(parent.label_id))
),
hits AS (
    SELECT a.agent_key, a.created_at, l.name AS label,
           coalesce(nullif(r.site_url, ''), nullif(r.resource_id, ''), r.resource_name) AS resource
    FROM agent_interactions a
    JOIN copilot_accessed_resources r USING (record_id)
    JOIN restricted l ON lower(l.label_id) = lower(r.sensitivity_label_id)
),
names AS (
    SELECT agent_key, arg_max(agent_name, created_at) FILTER (WHERE agent_name IS NOT NULL) AS agent_name
    FROM agent_interactions GROUP BY agent_key
)
SELECT
    coalesce(n.agent_name, h.agent_key) AS subject,
    'agent read ' || count(DISTINCT h.resource) || ' item(s) labelled '
        || string_agg(DISTINCT h.label, ', ' ORDER BY h.label) || ', last ' || strftime(max(h.created_at), '%Y-%m-%d')
        AS detail
FROM hits h JOIN names n USING (agent_key)
GROUP BY subject
ORDER BY subject;
