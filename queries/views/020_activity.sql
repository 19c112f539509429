-- Activity views over the normalised audit tables, the usage report and the labels.

-- view: copilot_interactions
-- One row per Copilot (or other AI) interaction audit record, collected from the Purview
-- audit log query API or imported from a Purview audit search export, deduplicated by
-- record id. Normalised in SQL from the raw AuditData JSON (kept in audit_records);
-- keys are read case-insensitively, and a missing or null field gives NULL. app,
-- actor_type and the agent are derived once, when the record lands, by the macros in
-- m365audit/store/migrations/025_copilot_app_actor_agent.sql (sources: the Office 365
-- Management Activity API's Copilot schema and common schema, Graph's
-- security.auditLogUserType, Microsoft Purview's audit guidance for Copilot and AI
-- activity; see docs/audit-records.md).
--   record_id: the audit record id (AuditData.Id)
--   created_at: when it happened (AuditData.CreationTime, UTC; a time without an offset is UTC)
--   user_principal_name: who (AuditData.UserId, lower case)
--   user_id: Entra object id: the collected user whose UPN matches, else AuditData.UserKey when it is an object id (a leaver, a guest, an import before the first collection), else NULL
--   record_type: CopilotInteraction, AIAppInteraction, ConnectedAIAppInteraction or TeamCopilotInteraction
--   operation: the audit operation
--   app: the product the user saw: Word, Excel, PowerPoint, Outlook, Teams, OneNote, Loop, Whiteboard, Copilot Chat (work) (AppHost BizChat, Office, M365App), Copilot Chat (web) (webchat, Bing*, Edge), Copilot Studio agent (AppIdentity Copilot.Studio.<id>), Security Copilot (AppIdentity Copilot.Security.*), or other (the raw value stays in app_host; third-party AI app records are other too). appchat (Copilot in an app) takes its app from the first Contexts[].Type (docx Word, xlsx Excel, pptx PowerPoint, TeamsMeeting/TeamsChannel/TeamsChat Teams, ...), else from the AppIdentity's last part
--   app_host: CopilotEventData.AppHost as received (Word, Excel, Teams, BizChat, Bing, appchat, ...; unknown values kept)
--   app_identity: AppIdentity as received (workloadName.appGroup.appName, e.g. Copilot.MicrosoftCopilot.BizChat)
--   actor_type: who or what acted, from AuditData.UserType: person (0 regular, 10 guest, or no UserType), admin (2 admin, 9 partner technician: people too), system (3 datacentre operator, 4 system), application (5), service principal (6), policy (7 custom, 8 system policy), other (any other value, kept in user_type)
--   user_type: AuditData.UserType as received (an integer, or Graph's auditLogUserType name)
--   thread_id: CopilotEventData.ThreadId
--   agent_id: the agent the record names: AgentId (top level or in CopilotEventData), else the Copilot Studio app id of AppIdentity Copilot.Studio.<id>
--   agent_name: AgentName, else TargetAgentName
--   agent_version: AgentVersion
--   agent_kind: Copilot Studio (AppIdentity Copilot.Studio.* or an id CopilotStudio.*), declarative (ids CopilotStudio.Declarative.*), other, or NULL when no agent is named
--   target_agent_name: TargetAgentName as received
--   client_ip: ClientIP (personal data: removed with the user by retention)
--   client_region: ClientRegion
CREATE OR REPLACE VIEW copilot_interactions AS
SELECT record_id, created_at, user_principal_name, user_id, record_type, operation, app, app_host,
       app_identity, actor_type, user_type, thread_id, agent_id, agent_name, agent_version, agent_kind,
       target_agent_name, client_ip, client_region
FROM copilot_interaction_facts;

-- view: copilot_record_admin_units
-- The administrative units an audit record belongs to, one row per unit (Graph's
-- auditLogRecord.administrativeUnits; the AssociatedAdminUnits column of a Purview export).
--   record_id: the audit record id
--   admin_unit_id: the administrative unit, as the source names it
CREATE OR REPLACE VIEW copilot_record_admin_units AS
SELECT record_id, admin_unit_id
FROM (SELECT record_id, unnest(admin_units) AS admin_unit_id FROM copilot_interaction_facts)
WHERE admin_unit_id IS NOT NULL;

-- view: copilot_models
-- The AI models an interaction used (CopilotEventData.ModelTransparencyDetails, one row per entry).
--   record_id: the interaction's audit record id
--   model_name: ModelName, e.g. DEEP_LEO
--   provider: ModelProviderName
--   version: ModelVersion
CREATE OR REPLACE VIEW copilot_models AS
SELECT record_id, model_name, model_provider AS provider, model_version AS version FROM copilot_model_facts;

-- view: copilot_accessed_resources
-- Files, sites, emails and web pages Copilot read or referenced in an interaction
-- (CopilotEventData.AccessedResources, one row per entry; entries that are not objects are skipped).
--   record_id: the interaction's audit record id
--   resource_id: AccessedResources.Id
--   resource_name: file or page name
--   resource_type: AccessedResources.Type, e.g. docx, xlsx, pdf
--   site_url: SiteUrl: the item's URL on its SharePoint or OneDrive site (or a web URL)
--   sensitivity_label_id: the resource's label id (joins sensitivity_labels.label_id), NULL if unlabelled
--   action: Action, e.g. Read
--   status: Status, e.g. Success
--   xpia_detected: cross-prompt injection detected in this resource
--   policy_details: PolicyDetails as JSON text (the DLP or label policy that restricted the content); NULL when absent or an empty string
--   policy_ids: policy ids found in PolicyDetails (keys such as PolicyId)
--   policy_names: policy names found in PolicyDetails (keys such as PolicyName)
CREATE OR REPLACE VIEW copilot_accessed_resources AS
SELECT record_id, resource_id, resource_name, resource_type, site_url, sensitivity_label_id, action,
       status, xpia_detected, policy_details, policy_ids, policy_names
FROM copilot_accessed_resource_facts;

-- view: copilot_messages
-- Prompts and responses in an interaction, with jailbreak flags (CopilotEventData.Messages;
-- records of the older revision that list only MessageIds give rows with is_prompt NULL).
--   record_id: the interaction's audit record id
--   message_id: Messages.Id
--   is_prompt: true for a user prompt, false for a Copilot response
--   jailbreak_detected: a jailbreak attempt was detected in this message (NULL when not reported)
CREATE OR REPLACE VIEW copilot_messages AS
SELECT record_id, message_id, is_prompt, jailbreak_detected FROM copilot_message_facts;

-- view: copilot_contexts
-- The documents, meetings or chats the user was in when invoking Copilot.
--   record_id: the interaction's audit record id
--   context_id: Contexts.Id (a URL or id)
--   context_type: Contexts.Type
CREATE OR REPLACE VIEW copilot_contexts AS
SELECT record_id, context_id, context_type FROM copilot_context_facts;

-- view: copilot_plugins
-- Plugins Copilot used (e.g. BingWebSearch).
--   record_id: the interaction's audit record id
--   plugin_id: AISystemPlugin.Id
--   plugin_name: AISystemPlugin.Name
--   plugin_version: AISystemPlugin.Version
CREATE OR REPLACE VIEW copilot_plugins AS
SELECT record_id, plugin_id, plugin_name, plugin_version FROM copilot_plugin_facts;

-- view: sensitivity_labels
-- The tenant's sensitivity label catalogue, latest collection.
--   label_id: the label's id (joins copilot_accessed_resources.sensitivity_label_id)
--   name: the label's name
--   sensitivity: higher is more sensitive
--   parent_id: the parent label for sublabels, else NULL
--   is_active: the label can be used
CREATE OR REPLACE VIEW sensitivity_labels AS
SELECT label_id, name, sensitivity, parent_id, is_active
FROM sensitivity_label_versions WHERE valid_to IS NULL;
