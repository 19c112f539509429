-- What counts as using Copilot: defined here once and read by every check, report and
-- FOI answer (tests/store/test_copilot_use.py fails when another file re-derives it).

-- view: copilot_apps
-- The products copilot_interactions.app names, in report order, and whether a person's interaction in each counts as Copilot use.
--   app: the product (copilot_interactions.app)
--   ord: report order
--   product: Microsoft 365 Copilot (Copilot in an app; in an unknown host too), Copilot Chat (work or web-grounded chat), Copilot Studio or Security Copilot
--   counts_as_use: true when a person's interaction here counts as using Microsoft 365 Copilot or Copilot Chat
CREATE OR REPLACE VIEW copilot_apps AS
SELECT * FROM (VALUES
    ('Word', 1, 'Microsoft 365 Copilot', true), ('Excel', 2, 'Microsoft 365 Copilot', true),
    ('PowerPoint', 3, 'Microsoft 365 Copilot', true), ('Outlook', 4, 'Microsoft 365 Copilot', true),
    ('Teams', 5, 'Microsoft 365 Copilot', true), ('OneNote', 6, 'Microsoft 365 Copilot', true),
    ('Loop', 7, 'Microsoft 365 Copilot', true), ('Whiteboard', 8, 'Microsoft 365 Copilot', true),
    ('Copilot Chat (work)', 9, 'Copilot Chat', true), ('Copilot Chat (web)', 10, 'Copilot Chat', true),
    ('other', 11, 'Microsoft 365 Copilot', true),
    ('Copilot Studio agent', 12, 'Copilot Studio', false), ('Security Copilot', 13, 'Security Copilot', false)
) AS t(app, ord, product, counts_as_use);

-- view: copilot_use
-- A person using Microsoft 365 Copilot or Copilot Chat: one row per audit record that counts. A record counts when (1) it is a first-party Copilot interaction record (record type CopilotInteraction or TeamCopilotInteraction; third-party AI apps, AIAppInteraction and ConnectedAIAppInteraction, are ai_app_use), (2) its actor is a person (actor_type person or admin; applications, service principals, system and policy actors are kept in copilot_interactions but never count), and (3) its app counts (copilot_apps.counts_as_use: every Microsoft 365 app, Copilot Chat at work or on the web, and hosts not known yet; not Security Copilot or Copilot Studio agents, which are their own products). Sources: Purview audit record types (Graph security.auditLogRecordType), the Management Activity API's Copilot and common schemas (AppHost, UserType).
--   record_id: the audit record id
--   created_at: when it happened (UTC)
--   user_id: Entra object id (copilot_interactions.user_id), NULL when neither the directory nor the record says
--   user_principal_name: the user's sign-in name (lower case)
--   app: the product (copilot_interactions.app)
--   product: Microsoft 365 Copilot or Copilot Chat (copilot_apps.product)
--   actor_type: person or admin
--   agent_id: the agent used, if any
CREATE OR REPLACE VIEW copilot_use AS
SELECT i.record_id, i.created_at, i.user_id, i.user_principal_name, i.app, a.product, i.actor_type, i.agent_id
FROM copilot_interactions i
JOIN copilot_apps a ON a.app = i.app AND a.counts_as_use
WHERE i.record_type IN ('CopilotInteraction', 'TeamCopilotInteraction')
  AND i.actor_type IN ('person', 'admin');

-- view: ai_app_use
-- Use of third-party AI apps that Purview records (record types AIAppInteraction and ConnectedAIAppInteraction, the latter also Copilot Studio agents registered as AI apps), by anyone: a program using an unapproved app matters too.
--   record_id: the audit record id
--   created_at: when it happened (UTC)
--   user_principal_name: who (lower case)
--   ai_app: the app: AppIdentity, else AppHost, else 'unknown app'
--   app_identity: AppIdentity as received
--   app_host: AppHost as received
--   actor_type: copilot_interactions.actor_type
CREATE OR REPLACE VIEW ai_app_use AS
SELECT record_id, created_at, user_principal_name,
       coalesce(nullif(app_identity, ''), nullif(app_host, ''), 'unknown app') AS ai_app,
       app_identity, app_host, actor_type
FROM copilot_interactions
WHERE record_type IN ('AIAppInteraction', 'ConnectedAIAppInteraction');

-- view: agent_interactions
-- Every audit record that names an agent (copilot_interactions.agent_id or agent_name), with what kind of agent it is and whether a person used it. A person's use of an agent is a record whose actor is a person (actor_type person or admin), whatever its record type: Copilot Studio agents arrive as CopilotInteraction records with AppIdentity Copilot.Studio.<id> and as ConnectedAIAppInteraction records, so neither copilot_use (which leaves Copilot Studio out) nor ai_app_use alone holds them. Kind: microsoft for Microsoft's own agents, named Researcher or Analyst (Microsoft 365 Copilot's reasoning agents); declarative for agents built on Copilot Chat (agent_kind declarative: ids CopilotStudio.Declarative.*); copilot studio (agent_kind Copilot Studio); third party for an agent named in a third-party AI app record (AIAppInteraction, ConnectedAIAppInteraction); else unknown. Sources: Microsoft Purview's audit guidance for Copilot and AI activity (AgentId, AgentName, record types), docs/audit-records.md.
--   record_id: the audit record id
--   created_at: when it happened (UTC)
--   user_id: Entra object id, NULL when unknown
--   user_principal_name: who or what acted (lower case)
--   agent_key: the agent: agent_id, else its name (lower case) prefixed 'name:'
--   agent_id: AgentId (or the Copilot Studio app id) as the record gives it
--   agent_name: AgentName, else TargetAgentName
--   kind: microsoft, declarative, copilot studio, third party or unknown
--   app: the product (copilot_interactions.app)
--   by_person: true when a person (actor_type person or admin) used the agent
CREATE OR REPLACE VIEW agent_interactions AS
SELECT record_id, created_at, user_id, user_principal_name,
       coalesce(nullif(trim(agent_id), ''), 'name:' || lower(trim(agent_name))) AS agent_key,
       agent_id, agent_name,
       CASE WHEN lower(trim(agent_name)) IN ('researcher', 'analyst') AND agent_kind IS DISTINCT FROM 'declarative'
                 AND agent_kind IS DISTINCT FROM 'Copilot Studio' THEN 'microsoft'
            WHEN agent_kind = 'declarative' THEN 'declarative'
            WHEN agent_kind = 'Copilot Studio' THEN 'copilot studio'
            WHEN record_type IN ('AIAppInteraction', 'ConnectedAIAppInteraction') THEN 'third party'
            ELSE 'unknown' END AS kind,
       app, actor_type IN ('person', 'admin') AS by_person
FROM copilot_interactions
WHERE nullif(trim(agent_id), '') IS NOT NULL OR nullif(trim(agent_name), '') IS NOT NULL;
