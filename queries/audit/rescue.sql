-- Parse again, with every spelling of the keys accepted, the records that miss a key
-- every real record has: Id, CreationTime, RecordType and, for audited types,
-- CopilotEventData, AppHost, each message's isPrompt and each resource's and context's
-- Id. Usually none are missing, so this costs little.
UPDATE audit_parsed AS p
SET data_id = r.d.Id, data_time = r.d.CreationTime, data_type = r.d.RecordType,
    data_operation = r.d.Operation, data_upn = r.d.UserId, user_key = r.d.UserKey,
    organization_id = r.d.OrganizationId, has_event_data = r.d.CopilotEventData IS NOT NULL,
    app_host = r.d.CopilotEventData.AppHost, app_identity = r.d.AppIdentity,
    thread_id = r.d.CopilotEventData.ThreadId,
    agent_id = coalesce(r.d.AgentId, r.d.CopilotEventData.AgentId),
    agent_name = coalesce(r.d.AgentName, r.d.CopilotEventData.AgentName),
    client_region = r.d.ClientRegion,
    resources = r.d.CopilotEventData.AccessedResources, messages = r.d.CopilotEventData.Messages,
    message_ids = r.d.CopilotEventData.MessageIds, contexts = r.d.CopilotEventData.Contexts,
    plugins = r.d.CopilotEventData.AISystemPlugin
FROM (SELECT rowid AS row_id, audit_parse(audit_canonical_keys(audit_data)) AS d
      FROM audit_parsed
      WHERE parsed AND starts_object
        AND (data_id IS NULL OR data_time IS NULL OR data_type IS NULL
             OR (audit_record_type(data_type) IN (SELECT name FROM audit_types)
                 AND (NOT has_event_data OR app_host IS NULL
                      OR list_bool_or(list_transform(messages, lambda m: m.isPrompt IS NULL))
                      OR list_bool_or(list_transform(resources, lambda r: r.Id IS NULL))
                      OR list_bool_or(list_transform(contexts, lambda c: c.Id IS NULL)))))) r
WHERE p.rowid = r.row_id;

-- The fields every table needs, from AuditData first and what the source says outside it second.
CREATE OR REPLACE TEMP TABLE audit_checked AS
SELECT rowid AS row_id, ordinal,
       coalesce(nullif(trim(data_id), ''), nullif(trim(fallback_id), '')) AS record_id,
       coalesce(audit_instant(trim(data_time)), audit_instant(trim(fallback_time))) AS created_at,
       coalesce(audit_record_type(data_type), given_type) AS record_type,
       coalesce(data_operation, fallback_operation) AS operation,
       nullif(lower(trim(coalesce(data_upn, fallback_upn))), '') AS user_principal_name,
       staged_problem, audit_data IS NULL OR (length(audit_data) < 64 AND trim(audit_data) = '') AS empty,
       parsed, starts_object
FROM audit_parsed;

CREATE OR REPLACE TEMP TABLE audit_checked AS
SELECT row_id, ordinal, record_id, created_at, record_type, operation, user_principal_name,
       record_type IN (SELECT name FROM audit_types) AS audited,
       CASE
           WHEN record_type NOT IN (SELECT name FROM audit_types) THEN NULL  -- skipped, not audited
           WHEN staged_problem IS NOT NULL THEN staged_problem
           WHEN empty THEN 'AuditData is empty'
           WHEN NOT starts_object THEN 'AuditData is not a JSON object'
           WHEN NOT parsed THEN 'AuditData is not valid JSON'
           WHEN record_id IS NULL THEN 'AuditData has no Id'
           WHEN created_at IS NULL THEN 'AuditData has no valid CreationTime'
           WHEN record_type IS NULL THEN 'AuditData has no RecordType'
       END AS problem
FROM audit_checked;
