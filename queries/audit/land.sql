-- Land the parsed audit records that are loadable, not stored yet and the first of
-- their id in the batch (all but audit_skip's rows, usually none), then derive the
-- normalised copilot_*_facts tables from the typed columns with UNNEST. The loader
-- sets the variables audit_source, audit_run_id and audit_ingested_at.
CREATE OR REPLACE TEMP VIEW audit_new AS
SELECT * FROM audit_parsed
WHERE audited AND problem IS NULL AND rowid NOT IN (SELECT row_id FROM audit_skip);

INSERT INTO audit_records
SELECT record_id, created_at, record_type, operation, user_principal_name, user_key, organization_id,
       getvariable('audit_source'), getvariable('audit_run_id'), getvariable('audit_ingested_at'),
       audit_data
FROM audit_new;

-- app, actor_type and the agent come from the macros migration 025 defines, once for every
-- reader; user_id from the directory by UPN, else from UserKey when that is an object id.
INSERT INTO copilot_interaction_facts (
    record_id, created_at, user_principal_name, user_id, record_type, operation, app_host, app_identity,
    thread_id, agent_id, agent_name, client_region, app, actor_type, user_type, agent_version, agent_kind,
    target_agent_name, client_ip, admin_units)
SELECT n.record_id, n.created_at, n.user_principal_name, coalesce(m.user_id, copilot_object_id(n.user_key)),
       n.record_type, n.operation, n.app_host, n.app_identity, n.thread_id,
       copilot_agent_id(n.agent_id, n.app_identity), coalesce(n.agent_name, n.target_agent_name), n.client_region,
       copilot_app(n.app_host, n.app_identity, n.contexts[1].Type), copilot_actor_type(n.user_type), n.user_type,
       n.agent_version, copilot_agent_kind(n.agent_id, n.app_identity), n.target_agent_name, n.client_ip,
       nullif(n.admin_units, [])
FROM audit_new n
LEFT JOIN audit_user_map m ON m.upn = n.user_principal_name;

-- Array entries that are not objects (or are empty objects) carry nothing: they are skipped.
-- PolicyDetails arrives as an object or an empty string: kept as JSON text, with the policy ids
-- and names found in it (keys such as PolicyId, PolicyName).
INSERT INTO copilot_accessed_resource_facts
SELECT record_id, r.Id, r.Name, r.Type, r.SiteUrl, r.SensitivityLabelId, r.Action, r.Status, r.XPIADetected,
       policy_details, copilot_policy_values(policy_details, '\w*policy\w*id'),
       copilot_policy_values(policy_details, '\w*policy\w*name')
FROM (SELECT record_id, r, CASE WHEN r.PolicyDetails::VARCHAR NOT IN ('""', 'null', '{}', '[]')
                                THEN r.PolicyDetails::VARCHAR END AS policy_details
      FROM (SELECT record_id, unnest(resources) AS r FROM audit_new))
WHERE coalesce(r.Id, r.Name, r.Type, r.SiteUrl, r.SensitivityLabelId, r.Action, r.Status,
               r.XPIADetected::VARCHAR, policy_details) IS NOT NULL;

-- Messages when the record has any; the older revision lists only MessageIds.
INSERT INTO copilot_message_facts
SELECT record_id, m.Id, m.isPrompt, m.JailbreakDetected
FROM (SELECT record_id, unnest(messages) AS m FROM audit_new)
WHERE coalesce(m.Id, m.isPrompt::VARCHAR, m.JailbreakDetected::VARCHAR) IS NOT NULL
UNION ALL
SELECT record_id, message_id, NULL, NULL
FROM (SELECT record_id, unnest(message_ids) AS message_id FROM audit_new
      WHERE len(list_filter(coalesce(messages, []), lambda m: coalesce(m.Id, m.isPrompt::VARCHAR,
                                                                       m.JailbreakDetected::VARCHAR) IS NOT NULL)) = 0)
WHERE message_id IS NOT NULL;

INSERT INTO copilot_context_facts
SELECT record_id, c.Id, c.Type
FROM (SELECT record_id, unnest(contexts) AS c FROM audit_new)
WHERE coalesce(c.Id, c.Type) IS NOT NULL;

INSERT INTO copilot_plugin_facts
SELECT record_id, p.Id, p.Name, p.Version
FROM (SELECT record_id, unnest(plugins) AS p FROM audit_new)
WHERE coalesce(p.Id, p.Name, p.Version) IS NOT NULL;

INSERT INTO copilot_model_facts
SELECT record_id, m.ModelName, m.ModelProviderName, m.ModelVersion
FROM (SELECT record_id, unnest(models) AS m FROM audit_new)
WHERE coalesce(m.ModelName, m.ModelProviderName, m.ModelVersion) IS NOT NULL;

DROP VIEW audit_new;
