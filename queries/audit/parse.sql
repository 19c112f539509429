-- Parse staged audit records (staged_audit: a table or view over Graph pages or a
-- Purview CSV export) into audit_parsed: one flat row per record with the raw text, the
-- fields the normalised tables need, typed once, and why a record cannot be loaded
-- (problem). Everything landing needs is in this one table, so landing reads it
-- without joins: the raw text is the bulk of it and is read once more, when stored.
--
-- Keys are read case-insensitively (see m365audit/store/audit_keys.py): records
-- with the usual other spellings of the keys are rewritten before parsing, and
-- records missing a key the views need are parsed again with every spelling
-- accepted (queries/audit/rescue.sql). CreationTime with or without an offset is UTC.
-- A record of a type the export marks as not audited is not parsed at all.
CREATE OR REPLACE TEMP TABLE audit_parsed AS
WITH typed AS (
    SELECT s.*,
           CASE WHEN s.audit_data IS NOT NULL AND s.staged_problem IS NULL
                     AND (s.given_type IS NULL OR audit_is_audited(s.given_type))
                -- try(): text that is not JSON (from a CSV export) parses to NULL, not an error
                THEN try(audit_parse(CASE WHEN audit_key_variants(s.audit_data)
                                          THEN audit_canonical_keys(s.audit_data) ELSE s.audit_data END))
           END AS d
    FROM (SELECT *, audit_record_type(fallback_type) AS given_type FROM staged_audit) s
),
fields AS (
    SELECT ordinal, fallback_id, fallback_time, fallback_operation, fallback_upn, given_type, staged_problem,
           audit_data, fallback_admin_units AS admin_units,
           d IS NOT NULL AS parsed,
           starts_with(ltrim(left(audit_data, 64)), '{') AS starts_object,
           audit_data IS NULL OR (length(audit_data) < 64 AND trim(audit_data) = '') AS empty,
           d.Id AS data_id, d.CreationTime AS data_time, d.RecordType AS data_type, d.Operation AS data_operation,
           d.UserId AS data_upn, d.UserKey AS user_key, d.OrganizationId AS organization_id,
           d.CopilotEventData IS NOT NULL AS has_event_data,
           d.CopilotEventData.AppHost AS app_host, d.AppIdentity AS app_identity,
           d.CopilotEventData.ThreadId AS thread_id,
           coalesce(d.AgentId, d.CopilotEventData.AgentId) AS agent_id,
           coalesce(d.AgentName, d.CopilotEventData.AgentName) AS agent_name,
           coalesce(d.AgentVersion, d.CopilotEventData.AgentVersion) AS agent_version,
           coalesce(d.TargetAgentName, d.CopilotEventData.TargetAgentName) AS target_agent_name,
           d.UserType AS user_type, d.ClientIP AS client_ip,
           d.ClientRegion AS client_region,
           d.CopilotEventData.AccessedResources AS resources, d.CopilotEventData.Messages AS messages,
           d.CopilotEventData.MessageIds AS message_ids, d.CopilotEventData.Contexts AS contexts,
           d.CopilotEventData.AISystemPlugin AS plugins,
           d.CopilotEventData.ModelTransparencyDetails AS models
    FROM typed
),
checked AS (
    SELECT *,
           audit_record_id(data_id, fallback_id) AS record_id,
           audit_created_at(data_time, fallback_time) AS created_at,
           coalesce(audit_record_type(data_type), given_type) AS record_type,
           coalesce(data_operation, fallback_operation) AS operation,
           audit_upn(data_upn, fallback_upn) AS user_principal_name
    FROM fields
)
SELECT *,
       audit_is_audited(record_type) AS audited,
       audit_problem(record_type, staged_problem, empty, starts_object, parsed, record_id, created_at) AS problem
FROM checked;
