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

INSERT INTO copilot_interaction_facts
SELECT n.record_id, n.created_at, n.user_principal_name, m.user_id, n.record_type, n.operation,
       n.app_host, n.app_identity, n.thread_id, n.agent_id, n.agent_name, n.client_region
FROM audit_new n
LEFT JOIN audit_user_map m ON m.upn = n.user_principal_name;

-- Array entries that are not objects (or are empty objects) carry nothing: they are skipped.
INSERT INTO copilot_accessed_resource_facts
SELECT record_id, r.Id, r.Name, r.Type, r.SiteUrl, r.SensitivityLabelId, r.Action, r.Status, r.XPIADetected
FROM (SELECT record_id, unnest(resources) AS r FROM audit_new)
WHERE coalesce(r.Id, r.Name, r.Type, r.SiteUrl, r.SensitivityLabelId, r.Action, r.Status,
               r.XPIADetected::VARCHAR) IS NOT NULL;

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

DROP VIEW audit_new;
