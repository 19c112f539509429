-- The agent inventory: every agent the audit log names, who used it and what it read.

-- Table macro restricted_labels_of(restricted): the sensitivity labels a policy's restricted list names, by name or id (lower-cased), with their sublabels: a sublabel is restricted when its parent is. Read by the agent inventory; the label check queries/checks/labels_copilot_no_restricted_content.sql applies the same rule.
-- Columns: label_id, name.
CREATE OR REPLACE MACRO restricted_labels_of(restricted) AS TABLE
SELECT l.label_id, l.name
FROM sensitivity_labels l
LEFT JOIN sensitivity_labels parent ON parent.label_id = l.parent_id
WHERE list_contains(restricted::VARCHAR[], lower(l.name)) OR list_contains(restricted::VARCHAR[], lower(l.label_id))
   OR list_contains(restricted::VARCHAR[], lower(parent.name))
   OR list_contains(restricted::VARCHAR[], lower(parent.label_id));

-- Table macro copilot_agents_at(as_of, restricted): the agent inventory at as_of with restricted_resources_read counted against a policy's restricted labels (lower-cased names or ids, as `[labels] restricted`); the view copilot_agents is this at the current time with no policy. The policy decides what is restricted, so the view cannot: `m365audit agents --policy`, the report and the checks pass the policy's labels here.
-- * agent_id: the agent (agent_interactions.agent_key)
-- * agent_name: its latest name, else its id
-- * kind: microsoft, declarative, copilot studio, third party or unknown (agent_interactions.kind; the most recent record's)
-- * first_seen: its first audit record
-- * last_seen: its latest audit record
-- * last_used: a person's latest use
-- * users_30d: people who used it in the 30 days to as_of
-- * interactions_30d: people's interactions with it in those 30 days
-- * users_prev_30d: people who used it in the 30 days before those (the trend)
-- * interactions_total: every record naming it, by anyone
-- * apps: the products it was used in (copilot_interactions.app), comma-separated
-- * resources_read: distinct files, sites, emails and pages it read (by URL, else id, else name)
-- * labelled_resources_read: of those, the ones carrying a sensitivity label
-- * restricted_resources_read: of those, the ones labelled restricted by the policy (NULL without a policy)
-- * restricted_labels: the restricted labels read, comma-separated
CREATE OR REPLACE MACRO copilot_agents_at(as_of, restricted) AS TABLE
WITH recs AS (
    SELECT * FROM agent_interactions WHERE created_at <= as_of
),
reads AS (
    SELECT a.agent_key, r.sensitivity_label_id,
           coalesce(nullif(r.site_url, ''), nullif(r.resource_id, ''), r.resource_name) AS resource
    FROM recs a JOIN copilot_accessed_resources r USING (record_id)
),
read_counts AS (
    SELECT r.agent_key, count(DISTINCT r.resource) AS resources_read,
           count(DISTINCT r.resource) FILTER (WHERE r.sensitivity_label_id IS NOT NULL) AS labelled_resources_read,
           CASE WHEN restricted IS NOT NULL THEN count(DISTINCT r.resource) FILTER (WHERE x.label_id IS NOT NULL)
                END AS restricted_resources_read,
           string_agg(DISTINCT x.name, ', ' ORDER BY x.name) AS restricted_labels
    FROM reads r
    LEFT JOIN restricted_labels_of(restricted) x ON lower(x.label_id) = lower(r.sensitivity_label_id)
    GROUP BY r.agent_key
),
per_agent AS (
    SELECT agent_key,
           coalesce(arg_max(agent_name, created_at) FILTER (WHERE agent_name IS NOT NULL), agent_key) AS agent_name,
           arg_max(kind, created_at) AS kind,
           min(created_at) AS first_seen, max(created_at) AS last_seen,
           max(created_at) FILTER (WHERE by_person) AS last_used,
           count(DISTINCT coalesce(user_id, user_principal_name))
               FILTER (WHERE by_person AND created_at > as_of - INTERVAL 30 DAY) AS users_30d,
           count(*) FILTER (WHERE by_person AND created_at > as_of - INTERVAL 30 DAY) AS interactions_30d,
           count(DISTINCT coalesce(user_id, user_principal_name))
               FILTER (WHERE by_person AND created_at > as_of - INTERVAL 60 DAY
                       AND created_at <= as_of - INTERVAL 30 DAY) AS users_prev_30d,
           count(*) AS interactions_total,
           string_agg(DISTINCT app, ', ' ORDER BY app) AS apps
    FROM recs GROUP BY agent_key
)
SELECT p.agent_key AS agent_id, p.agent_name, p.kind, p.first_seen, p.last_seen, p.last_used, p.users_30d,
       p.interactions_30d, p.users_prev_30d, p.interactions_total, p.apps,
       coalesce(c.resources_read, 0) AS resources_read, coalesce(c.labelled_resources_read, 0) AS labelled_resources_read,
       CASE WHEN restricted IS NOT NULL THEN coalesce(c.restricted_resources_read, 0) END AS restricted_resources_read,
       c.restricted_labels
FROM per_agent p LEFT JOIN read_counts c USING (agent_key);

-- view: copilot_agents
-- Every agent the audit log names (Copilot Studio, declarative, Microsoft's own, third-party), with people's use in the last 30 days (agent_interactions.by_person: the definition of a person's use of an agent) and what it read. An agent seen only in records of programs (a service principal running a Copilot Studio agent) is listed with no users: it exists but nobody uses it. restricted_resources_read is NULL here: which labels are restricted is the policy's to say (see copilot_agents_at). No Graph catalogue of agents is collected: Microsoft's only one, GET /beta/copilot/admin/catalog/packages, is a preview API that needs a Microsoft Agent 365 licence (docs/agents.md).
--   agent_id: the agent: AgentId, else the Copilot Studio app id, else 'name:' and its name
--   agent_name: its latest name, else its id
--   kind: microsoft, declarative, copilot studio, third party or unknown
--   first_seen: its first audit record
--   last_seen: its latest audit record
--   users_30d: people who used it in the last 30 days
--   interactions_30d: people's interactions with it in the last 30 days
--   apps: the products it was used in, comma-separated
--   resources_read: distinct files, sites, emails and pages it read
--   labelled_resources_read: of those, the ones carrying a sensitivity label
--   restricted_resources_read: NULL (needs the policy: copilot_agents_at)
CREATE OR REPLACE VIEW copilot_agents AS
SELECT agent_id, agent_name, kind, first_seen, last_seen, users_30d, interactions_30d, apps, resources_read,
       labelled_resources_read, restricted_resources_read
FROM copilot_agents_at(now(), NULL::VARCHAR[]);

-- Macro agent_verdict(users_30d, restricted_resources_read): what to do with an agent, by a stated rule, read by the report and `m365audit agents`: Review when it read content with a restricted label (whatever its use: the exposure needs looking at); else Retire when no person used it in the 30 days to the date looked at; else Keep.
CREATE OR REPLACE MACRO agent_verdict(users_30d, restricted_resources_read) AS
    CASE WHEN coalesce(restricted_resources_read, 0) > 0 THEN 'Review'
         WHEN coalesce(users_30d, 0) = 0 THEN 'Retire'
         ELSE 'Keep' END;

-- Macro agent_verdict_rule(users_30d, restricted_resources_read): the rule that decided agent_verdict, in words, shown beside it.
CREATE OR REPLACE MACRO agent_verdict_rule(users_30d, restricted_resources_read) AS
    CASE WHEN coalesce(restricted_resources_read, 0) > 0 THEN 'read content with a restricted label: review it'
         WHEN coalesce(users_30d, 0) = 0 THEN 'nobody used it in the last 30 days: retire it'
         ELSE 'used in the last 30 days and read nothing restricted: keep it' END;
