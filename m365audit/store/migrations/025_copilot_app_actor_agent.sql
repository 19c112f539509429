-- Where a Copilot interaction happened (app), who or what made it (actor_type), which
-- agent it used, and the rest of what the record says.
--
-- The meanings are macros stored in the database, defined once here and used by the
-- loader (queries/audit/land.sql) when a record lands and by this migration for the
-- records already stored, so a value is derived once and read everywhere. Sources:
--   AppHost, Contexts: Office 365 Management Activity API, Copilot schema
--     (learn.microsoft.com/office/office-365-management-api/copilot-schema): bizchat is
--     Microsoft 365 Copilot Chat, appchat is Copilot in an app (Word, Excel, PowerPoint,
--     Teams...), and Contexts[].Type names the app: docx, xlsx, pptx, TeamsMeeting,
--     TeamsChannel, TeamsChat. Microsoft Purview's audit guidance for AI activity:
--     BizChat = Copilot Chat (Teams, microsoft365.com/copilot), Bing = Edge or Office
--     mobile, Office = office.com / microsoft365.com; AppIdentity is
--     workloadName.appGroup.appName, e.g. Copilot.MicrosoftCopilot.Microsoft365Copilot,
--     Copilot.Security.SecurityCopilot, Copilot.Studio.<app id>.
--   UserType: Graph's security.auditLogUserType (0 Regular, 1 Reserved, 2 Admin,
--     3 DcAdmin, 4 System, 5 Application, 6 ServicePrincipal, 7 CustomPolicy,
--     8 SystemPolicy, 9 PartnerTechnician, 10 Guest) and the Management Activity
--     API's common schema, which AuditData.UserType follows.
-- A later change of meaning is a new migration that replaces a macro and derives the
-- stored columns again.

-- The app a lower-cased product name (an AppHost, the last part of an AppIdentity) names.
CREATE OR REPLACE MACRO copilot_app_of_name(n) AS
    CASE n
        WHEN 'word' THEN 'Word'
        WHEN 'excel' THEN 'Excel'
        WHEN 'powerpoint' THEN 'PowerPoint'
        WHEN 'outlook' THEN 'Outlook'
        WHEN 'teams' THEN 'Teams'
        WHEN 'onenote' THEN 'OneNote'
        WHEN 'loop' THEN 'Loop'
        WHEN 'whiteboard' THEN 'Whiteboard'
        WHEN 'bizchat' THEN 'Copilot Chat (work)'
        WHEN 'office' THEN 'Copilot Chat (work)'
        WHEN 'm365app' THEN 'Copilot Chat (work)'
        WHEN 'microsoft365copilot' THEN 'Copilot Chat (work)'
        WHEN 'webchat' THEN 'Copilot Chat (web)'
        WHEN 'edge' THEN 'Copilot Chat (web)'
        WHEN 'securitycopilot' THEN 'Security Copilot'
        ELSE CASE WHEN starts_with(n, 'bing') THEN 'Copilot Chat (web)' END
    END;

-- The app a Contexts[].Type (lower case) shows the user was in, for appchat records.
CREATE OR REPLACE MACRO copilot_app_of_context(t) AS
    CASE
        WHEN t IN ('docx', 'doc', 'docm', 'dotx', 'rtf') THEN 'Word'
        WHEN t IN ('xlsx', 'xls', 'xlsm', 'xlsb', 'csv') THEN 'Excel'
        WHEN t IN ('pptx', 'ppt', 'pptm', 'ppsx') THEN 'PowerPoint'
        WHEN t IN ('teamsmeeting', 'teamschannel', 'teamschat') THEN 'Teams'
        WHEN t IN ('email', 'outlook') THEN 'Outlook'
        WHEN t IN ('one', 'onenote') THEN 'OneNote'
        WHEN t IN ('loop', 'fluid') THEN 'Loop'
        WHEN t IN ('whiteboard', 'wbd') THEN 'Whiteboard'
    END;

-- The product the user saw. Security Copilot and Copilot Studio agents are their own
-- products whatever host they arrive through; then the AppHost; for appchat (or no
-- host) the first context's type; then the AppIdentity's app name; else 'other' (the
-- raw AppHost stays in app_host).
CREATE OR REPLACE MACRO copilot_app(app_host, app_identity, context_type) AS
    CASE
        WHEN starts_with(lower(trim(app_identity)), 'copilot.security.') THEN 'Security Copilot'
        WHEN starts_with(lower(trim(app_identity)), 'copilot.studio.') THEN 'Copilot Studio agent'
        ELSE coalesce(
            copilot_app_of_name(nullif(lower(trim(app_host)), 'appchat')),
            CASE WHEN coalesce(lower(trim(app_host)), 'appchat') = 'appchat'
                 THEN copilot_app_of_context(lower(trim(context_type))) END,
            copilot_app_of_name(lower(regexp_extract(trim(app_identity), '\.([^.]+)$', 1))),
            'other')
    END;

-- Who or what acted (AuditData.UserType, an integer, or Graph's auditLogUserType name).
-- Admins, guests and partner technicians are people; a record without a UserType is
-- read as a regular user's, as records were written before the field existed.
CREATE OR REPLACE MACRO copilot_actor_type(user_type) AS
    CASE lower(trim(user_type::VARCHAR))
        WHEN '0' THEN 'person' WHEN 'regular' THEN 'person'
        WHEN '10' THEN 'person' WHEN 'guest' THEN 'person'
        WHEN '2' THEN 'admin' WHEN 'admin' THEN 'admin'
        WHEN '9' THEN 'admin' WHEN 'partnertechnician' THEN 'admin'
        WHEN '3' THEN 'system' WHEN 'dcadmin' THEN 'system'
        WHEN '4' THEN 'system' WHEN 'system' THEN 'system'
        WHEN '5' THEN 'application' WHEN 'application' THEN 'application'
        WHEN '6' THEN 'service principal' WHEN 'serviceprincipal' THEN 'service principal'
        WHEN '7' THEN 'policy' WHEN 'custompolicy' THEN 'policy'
        WHEN '8' THEN 'policy' WHEN 'systempolicy' THEN 'policy'
        ELSE CASE WHEN user_type IS NULL OR trim(user_type::VARCHAR) = '' THEN 'person' ELSE 'other' END
    END;

-- The agent's id: AgentId as received, else the Copilot Studio app id in AppIdentity (Copilot.Studio.<id>).
CREATE OR REPLACE MACRO copilot_agent_id(agent_id, app_identity) AS
    coalesce(CASE WHEN trim(agent_id) <> '' THEN agent_id END,
             CASE WHEN starts_with(lower(trim(app_identity)), 'copilot.studio.')
                  THEN nullif(substr(trim(app_identity), length('Copilot.Studio.') + 1), '') END);

-- What kind of agent: Copilot Studio when AppIdentity or the id says so, declarative for
-- agents built on Copilot Chat (ids CopilotStudio.Declarative.*), else other.
CREATE OR REPLACE MACRO copilot_agent_kind(agent_id, app_identity) AS
    CASE
        WHEN starts_with(lower(trim(app_identity)), 'copilot.studio.') THEN 'Copilot Studio'
        WHEN nullif(trim(agent_id), '') IS NULL THEN NULL
        WHEN starts_with(lower(trim(agent_id)), 'copilotstudio.declarative.') THEN 'declarative'
        WHEN starts_with(lower(trim(agent_id)), 'copilotstudio.') THEN 'Copilot Studio'
        ELSE 'other'
    END;

-- An Entra object id (a GUID) or NULL: UserKey gives user_id when the directory does not.
CREATE OR REPLACE MACRO copilot_object_id(k) AS
    CASE WHEN regexp_full_match(trim(k), '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')
         THEN lower(trim(k)) END;

-- Policy ids and names found in a PolicyDetails JSON text (its shape is not documented;
-- the text itself is kept whole).
CREATE OR REPLACE MACRO copilot_policy_values(details, key_pattern) AS
    list_distinct(regexp_extract_all(details, '"(?i:' || key_pattern || ')"\s*:\s*"([^"]+)"', 1));

ALTER TABLE copilot_interaction_facts ADD COLUMN app VARCHAR;
ALTER TABLE copilot_interaction_facts ADD COLUMN actor_type VARCHAR;
ALTER TABLE copilot_interaction_facts ADD COLUMN user_type VARCHAR;
ALTER TABLE copilot_interaction_facts ADD COLUMN agent_version VARCHAR;
ALTER TABLE copilot_interaction_facts ADD COLUMN agent_kind VARCHAR;
ALTER TABLE copilot_interaction_facts ADD COLUMN target_agent_name VARCHAR;
ALTER TABLE copilot_interaction_facts ADD COLUMN client_ip VARCHAR;
ALTER TABLE copilot_interaction_facts ADD COLUMN admin_units VARCHAR[];

ALTER TABLE copilot_accessed_resource_facts ADD COLUMN policy_details VARCHAR;
ALTER TABLE copilot_accessed_resource_facts ADD COLUMN policy_ids VARCHAR[];
ALTER TABLE copilot_accessed_resource_facts ADD COLUMN policy_names VARCHAR[];

CREATE TABLE copilot_model_facts (
    record_id       VARCHAR NOT NULL,
    model_name      VARCHAR,      -- ModelTransparencyDetails[].ModelName
    model_provider  VARCHAR,      -- ModelProviderName
    model_version   VARCHAR       -- ModelVersion
);

ALTER TABLE copilot_activity_daily_totals ADD COLUMN app VARCHAR;

-- Records stored before this migration: derived from their stored columns and raw JSON
-- (records whose raw JSON retention already removed keep what their columns say).
UPDATE copilot_interaction_facts f
SET user_type = r.user_type,
    agent_version = coalesce(r.agent_version, r.event_agent_version),
    target_agent_name = coalesce(r.target_agent, r.event_target_agent),
    client_ip = CASE WHEN f.user_principal_name IS NOT NULL OR f.user_id IS NOT NULL THEN r.client_ip END,
    user_id = CASE WHEN f.user_principal_name IS NOT NULL THEN coalesce(f.user_id, copilot_object_id(r.user_key))
              END
FROM (SELECT record_id, user_key,
             json_extract_string(audit_data, '$.UserType') AS user_type,
             json_extract_string(audit_data, '$.AgentVersion') AS agent_version,
             json_extract_string(audit_data, '$.CopilotEventData.AgentVersion') AS event_agent_version,
             json_extract_string(audit_data, '$.TargetAgentName') AS target_agent,
             json_extract_string(audit_data, '$.CopilotEventData.TargetAgentName') AS event_target_agent,
             json_extract_string(audit_data, '$.ClientIP') AS client_ip
      FROM audit_records WHERE audit_data IS NOT NULL) r
WHERE r.record_id = f.record_id;

UPDATE copilot_interaction_facts f
SET app = copilot_app(f.app_host, f.app_identity,
                      (SELECT min(c.context_type) FROM copilot_context_facts c WHERE c.record_id = f.record_id)),
    actor_type = copilot_actor_type(f.user_type),
    agent_kind = copilot_agent_kind(f.agent_id, f.app_identity),
    agent_id = copilot_agent_id(f.agent_id, f.app_identity),
    agent_name = coalesce(f.agent_name, f.target_agent_name);

UPDATE copilot_activity_daily_totals SET app = copilot_app(app_host, NULL, NULL);

INSERT INTO copilot_model_facts
SELECT record_id, m.ModelName, m.ModelProviderName, m.ModelVersion
FROM (SELECT record_id,
             unnest(try(from_json(json_extract(audit_data, '$.CopilotEventData.ModelTransparencyDetails'),
                                  '[{"ModelName":"VARCHAR","ModelProviderName":"VARCHAR","ModelVersion":"VARCHAR"}]')))
                 AS m
      FROM audit_records WHERE audit_data IS NOT NULL)
WHERE coalesce(m.ModelName, m.ModelProviderName, m.ModelVersion) IS NOT NULL;
