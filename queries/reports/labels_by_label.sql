-- table: labels_by_label
-- title: What Copilot read, by sensitivity label and app
-- Resources (files, emails, pages) Copilot read or referenced in interactions over the
-- period the audit log covers, by the resource's sensitivity label and the app Copilot
-- was used in. A label id missing from the collected catalogue shows as "Unknown label".
--   label (text): Sensitivity label
--   sensitivity (int): Sensitivity rank
--   word (int): Word
--   excel (int): Excel
--   powerpoint (int): PowerPoint
--   outlook (int): Outlook
--   teams (int): Teams
--   copilot_chat (int): Copilot Chat
--   other (int): Other apps
--   accesses (int): Accesses
--   resources (int): Distinct resources
WITH r AS (
    SELECT r.*, i.app, nullif(trim(r.sensitivity_label_id), '') AS label_id,
           coalesce(r.resource_id, r.site_url, r.resource_name) AS resource_key
    FROM copilot_accessed_resources r
    JOIN report_interactions i USING (record_id)
)
SELECT CASE WHEN r.label_id IS NULL THEN 'Unlabelled'
            ELSE coalesce(l.name, 'Unknown label ' || r.label_id) END AS label,
       any_value(l.sensitivity) AS sensitivity,
       count(*) FILTER (WHERE r.app = 'Word') AS word,
       count(*) FILTER (WHERE r.app = 'Excel') AS excel,
       count(*) FILTER (WHERE r.app = 'PowerPoint') AS powerpoint,
       count(*) FILTER (WHERE r.app = 'Outlook') AS outlook,
       count(*) FILTER (WHERE r.app = 'Teams') AS teams,
       count(*) FILTER (WHERE r.app = 'Copilot Chat') AS copilot_chat,
       count(*) FILTER (WHERE r.app = 'Other') AS other,
       count(*) AS accesses,
       count(DISTINCT r.resource_key) AS resources
FROM r
LEFT JOIN sensitivity_labels l ON lower(l.label_id) = lower(r.label_id)
GROUP BY 1
ORDER BY label = 'Unlabelled', sensitivity DESC NULLS LAST, label;
