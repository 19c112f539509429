-- table: labels_unlabelled
-- title: Share of unlabelled resources Copilot read
-- Distinct resources Copilot read over the audit period, by kind, and how many carried
-- no sensitivity label. Files are SharePoint and OneDrive items (or typed as documents);
-- web results are not labelled by nature and are shown apart.
--   kind (text): Kind of resource
--   resources (int): Distinct resources
--   unlabelled (int): Without a label
--   unlabelled_share (percent): Share without a label
--   accesses (int): Accesses
WITH r AS (
    SELECT coalesce(r.resource_id, r.site_url, r.resource_name) AS resource_key,
           nullif(trim(r.sensitivity_label_id), '') IS NULL AS unlabelled,
           CASE
               WHEN lower(r.resource_type) LIKE '%web%' OR lower(r.resource_type) IN ('bing', 'url') THEN 'Web results'
               WHEN lower(r.resource_type) IN ('email', 'mail', 'message', 'emailmessage') THEN 'Emails'
               WHEN r.site_url ILIKE '%.sharepoint.%' OR r.site_url ILIKE '%sharepoint.com%'
                    OR lower(r.resource_type) IN ('file', 'document', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx',
                                                  'pdf', 'txt', 'csv', 'one', 'loop', 'page', 'listitem')
                   THEN 'Files'
               ELSE 'Other'
           END AS kind
    FROM copilot_accessed_resources r
    JOIN report_interactions i USING (record_id)
),
kinds AS (SELECT * FROM (VALUES ('Files', 1), ('Emails', 2), ('Web results', 3), ('Other', 4)) k(kind, ord))
SELECT k.kind,
       count(DISTINCT r.resource_key) AS resources,
       count(DISTINCT r.resource_key) FILTER (WHERE r.unlabelled) AS unlabelled,
       CASE WHEN count(DISTINCT r.resource_key) > 0
            THEN count(DISTINCT r.resource_key) FILTER (WHERE r.unlabelled) / count(DISTINCT r.resource_key)
       END AS unlabelled_share,
       count(r.kind) AS accesses
FROM kinds k LEFT JOIN r USING (kind)
GROUP BY k.kind, k.ord
ORDER BY k.ord;
