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
    agent_version = coalesce(r.d.AgentVersion, r.d.CopilotEventData.AgentVersion),
    target_agent_name = coalesce(r.d.TargetAgentName, r.d.CopilotEventData.TargetAgentName),
    user_type = r.d.UserType, client_ip = r.d.ClientIP,
    client_region = r.d.ClientRegion,
    resources = r.d.CopilotEventData.AccessedResources, messages = r.d.CopilotEventData.Messages,
    message_ids = r.d.CopilotEventData.MessageIds, contexts = r.d.CopilotEventData.Contexts,
    plugins = r.d.CopilotEventData.AISystemPlugin, models = r.d.CopilotEventData.ModelTransparencyDetails,
    -- what parse.sql derives from these fields, derived again (SET sees the old values)
    record_id = audit_record_id(r.d.Id, p.fallback_id),
    created_at = audit_created_at(r.d.CreationTime, p.fallback_time),
    record_type = coalesce(audit_record_type(r.d.RecordType), p.given_type),
    operation = coalesce(r.d.Operation, p.fallback_operation),
    user_principal_name = audit_upn(r.d.UserId, p.fallback_upn),
    audited = audit_is_audited(coalesce(audit_record_type(r.d.RecordType), p.given_type)),
    problem = audit_problem(coalesce(audit_record_type(r.d.RecordType), p.given_type), p.staged_problem,
                            p.empty, p.starts_object, p.parsed, audit_record_id(r.d.Id, p.fallback_id),
                            audit_created_at(r.d.CreationTime, p.fallback_time))
FROM (SELECT rowid AS row_id, audit_parse(audit_canonical_keys(audit_data)) AS d
      FROM audit_parsed
      WHERE parsed AND starts_object
        AND (data_id IS NULL OR data_time IS NULL OR data_type IS NULL
             OR (audit_is_audited(audit_record_type(data_type))
                 AND (NOT has_event_data OR app_host IS NULL
                      OR list_bool_or(list_transform(messages, lambda m: m.isPrompt IS NULL))
                      OR list_bool_or(list_transform(resources, lambda r: r.Id IS NULL))
                      OR list_bool_or(list_transform(contexts, lambda c: c.Id IS NULL)))))) r
WHERE p.rowid = r.row_id;
