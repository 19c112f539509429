-- id: usage_copilot_not_on_prohibited_sites
-- title: Copilot is not used on or with content from the prohibited sites
-- severity: critical
-- clause: [usage] prohibited_sites
-- rationale: School and council policies forbid AI for safeguarding records (for example drafting
--   safeguarding logs) and for legal, disciplinary or complaint matters. Copilot reading a file from
--   such a site, or being invoked in a document that lives there, is use of AI with that material.
--   A site matches its own address and everything below it (case-insensitive), so .../sites/Safeguarding
--   does not match .../sites/SafeguardingTraining.
-- remediation: Owner: the SharePoint administrator with the site owner. Turn on Restricted Content Discovery
--   for the site (SharePoint admin centre > Sites > Active sites > the site > Settings, or PowerShell
--   `Set-SPOSite -Identity <site URL> -RestrictContentOrgWideSearch $true`) and review who has access; the
--   people named are reminded of the policy by their manager.
-- reads: copilot_accessed_resources, copilot_contexts, copilot_interactions
-- needs: audit_records
WITH touched AS (
    SELECT record_id, site_url AS url, 'read' AS how FROM copilot_accessed_resources
    UNION ALL
    SELECT record_id, context_id AS url, 'invoked in' AS how FROM copilot_contexts
),
hits AS (
    SELECT lower(i.user_principal_name) AS upn, i.record_id, i.created_at, t.how, site
    FROM touched t
    JOIN copilot_interactions i USING (record_id)
    CROSS JOIN unnest($prohibited_sites::VARCHAR[]) AS p(site)
    WHERE lower(t.url) = site OR starts_with(lower(t.url), site || '/') OR starts_with(lower(t.url), site || '?')
)
SELECT
    upn AS subject,
    'Copilot ' || string_agg(DISTINCT how, ' and ' ORDER BY how) || ' content on '
        || string_agg(DISTINCT site, ', ' ORDER BY site) || ' in ' || count(DISTINCT record_id)
        || ' interaction(s), last ' || strftime(max(created_at), '%Y-%m-%d') AS detail
FROM hits
GROUP BY upn
ORDER BY subject;
