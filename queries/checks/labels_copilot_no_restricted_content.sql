-- id: labels_copilot_no_restricted_content
-- title: Copilot read nothing carrying a restricted sensitivity label
-- severity: high
-- clause: [labels] restricted
-- rationale: Labels such as Highly Confidential mark content that must not be summarised or reused
--   by AI. A sublabel counts as restricted when its parent label is. Copilot respects permissions, not
--   intent: a finding means the label's protection or the site's permissions let Copilot read it.
-- remediation: Owner: the information governance lead with the Purview administrator. In the Microsoft
--   Purview portal, Data loss prevention > Policies, create or extend a policy for the location 'Microsoft
--   365 Copilot and Copilot Chat' that stops Copilot processing items with the restricted labels; check with
--   each site owner why the people named could open the item at all, and remove access that is not needed
--   (SharePoint admin centre > Sites > Active sites > the site > Membership).
-- reads: copilot_accessed_resources, copilot_interactions, sensitivity_labels
-- needs: audit_records, restricted_labels
WITH restricted AS (
    SELECT l.label_id, l.name
    FROM sensitivity_labels l
    LEFT JOIN sensitivity_labels parent ON parent.label_id = l.parent_id
    WHERE list_contains($restricted_labels::VARCHAR[], lower(l.name))
       OR list_contains($restricted_labels::VARCHAR[], lower(l.label_id))
       OR list_contains($restricted_labels::VARCHAR[], lower(parent.name))
       OR list_contains($restricted_labels::VARCHAR[], lower(parent.label_id))
),
label_reads AS (
    SELECT lower(i.user_principal_name) AS upn, i.created_at, l.name AS label,
           coalesce(nullif(r.site_url, ''), nullif(r.resource_id, ''), r.resource_name) AS resource
    FROM copilot_accessed_resources r
    JOIN restricted l ON lower(l.label_id) = lower(r.sensitivity_label_id)
    JOIN copilot_interactions i USING (record_id)
)
SELECT
    upn AS subject,
    'Copilot read ' || count(DISTINCT resource) || ' item(s) labelled '
        || string_agg(DISTINCT label, ', ' ORDER BY label) || ', last ' || strftime(max(created_at), '%Y-%m-%d')
        AS detail
FROM label_reads
GROUP BY upn
ORDER BY subject;
