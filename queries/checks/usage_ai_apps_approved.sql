-- id: usage_ai_apps_approved
-- title: Only approved AI apps are used
-- severity: high
-- clause: [usage] approved_ai_apps
-- rationale: The policies allow Microsoft Copilot and nothing else without sign-off by IT or the
--   data protection officer, because other tools may keep or train on what staff paste into them.
--   Purview records use of third-party AI apps as AIAppInteraction and ConnectedAIAppInteraction;
--   an app is approved when its app identity or host is in the list. One finding per app names
--   the people who used it.
-- remediation: Owner: information security. Decide whether the app is acceptable (a DPIA where personal data
--   is involved): if so, add it to [usage] approved_ai_apps; if not, mark it Unsanctioned in Microsoft
--   Defender for Cloud Apps (Cloud apps > Cloud app catalogue) and tell the people who used it.
-- reads: ai_app_use
-- needs: ai_app_records
WITH uses AS (
    SELECT ai_app AS app, user_principal_name, created_at
    FROM ai_app_use
    WHERE NOT list_contains($approved_ai_apps::VARCHAR[], lower(coalesce(app_identity, '')))
      AND NOT list_contains($approved_ai_apps::VARCHAR[], lower(coalesce(app_host, '')))
),
per_app AS (
    SELECT app, count(*) AS interactions, count(DISTINCT lower(user_principal_name)) AS people,
           max(created_at)::DATE AS last_day,
           list(DISTINCT lower(user_principal_name) ORDER BY lower(user_principal_name)) AS users
    FROM uses GROUP BY app
)
SELECT
    app AS subject,
    interactions || ' interaction(s) by ' || people || ' user(s), last ' || strftime(last_day, '%Y-%m-%d')
        || ': ' || array_to_string(users[1:5], ', ')
        || CASE WHEN people > 5 THEN ' and ' || (people - 5) || ' more' ELSE '' END AS detail
FROM per_app
ORDER BY subject;
