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
