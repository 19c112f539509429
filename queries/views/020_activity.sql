-- Activity views over the normalised audit tables, the usage report and the labels.

-- view: copilot_interactions
-- One row per Copilot (or other AI) interaction audit record, collected from the Purview
-- audit log query API or imported from a Purview audit search export, deduplicated by
-- record id. Normalised in SQL from the raw AuditData JSON (kept in audit_records);
-- keys are read case-insensitively, and a missing or null field gives NULL.
--   record_id: the audit record id (AuditData.Id)
--   created_at: when it happened (AuditData.CreationTime, UTC; a time without an offset is UTC)
--   user_principal_name: who (AuditData.UserId, lower case)
--   user_id: Entra object id when the UPN matches a collected user, else NULL
--   record_type: CopilotInteraction, AIAppInteraction, ConnectedAIAppInteraction or TeamCopilotInteraction
--   operation: the audit operation
--   app_host: CopilotEventData.AppHost as received (Word, Excel, Teams, BizChat, Bing, ...; unknown values kept)
--   app_identity: AppIdentity, e.g. Copilot.M365Copilot.WebChat
--   thread_id: CopilotEventData.ThreadId
--   agent_id: Copilot Studio or declarative agent id, when one was used
--   agent_name: the agent's name
--   client_region: ClientRegion
CREATE OR REPLACE VIEW copilot_interactions AS
SELECT record_id, created_at, user_principal_name, user_id, record_type, operation, app_host,
       app_identity, thread_id, agent_id, agent_name, client_region
FROM copilot_interaction_facts;

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
CREATE OR REPLACE VIEW copilot_accessed_resources AS
SELECT record_id, resource_id, resource_name, resource_type, site_url, sensitivity_label_id, action,
       status, xpia_detected
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
