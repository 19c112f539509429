-- What Copilot read and whether it was labelled: "unlabelled" is defined here once and read by
-- the labels check (labels_copilot_resources_labelled) and the report's labels section
-- (queries/reports/labels_unlabelled.sql); tests/report/test_figures_agree.py holds them to it.

-- view: copilot_resource_reads
-- One row per file, email or web page Copilot read in a person's use of Copilot (copilot_use joined to CopilotEventData.AccessedResources). Source: Microsoft Learn, "Audit logs for Copilot and AI applications" (AccessedResources: Id, Name, Type, SiteUrl, SensitivityLabelId).
--   record_id: the interaction's audit record id
--   item: the item read: AccessedResources.Id, else SiteUrl, else Name
--   kind: Files, Emails, Web results or Other
--   site: the SharePoint or OneDrive site of the item (scheme, host and /sites|teams|personal/name), else the host
--   labelled: the read carried a sensitivity label (SensitivityLabelId not empty)
CREATE OR REPLACE VIEW copilot_resource_reads AS
SELECT r.record_id,
       coalesce(nullif(trim(r.resource_id), ''), nullif(trim(r.site_url), ''), r.resource_name) AS item,
       CASE
           WHEN lower(r.resource_type) LIKE '%web%' OR lower(r.resource_type) IN ('bing', 'url') THEN 'Web results'
           WHEN lower(r.resource_type) IN ('email', 'mail', 'message', 'emailmessage') THEN 'Emails'
           WHEN r.site_url ILIKE '%.sharepoint.%' OR r.site_url ILIKE '%sharepoint.com%'
                OR lower(r.resource_type) IN ('file', 'document', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx',
                                              'pdf', 'txt', 'csv', 'one', 'loop', 'page', 'listitem')
               THEN 'Files'
           ELSE 'Other'
       END AS kind,
       regexp_extract(r.site_url, '^(https?://[^/]+(/(sites|teams|personal)/[^/?]+)?)', 1) AS site,
       coalesce(trim(r.sensitivity_label_id), '') <> '' AS labelled
FROM copilot_accessed_resources r
WHERE r.record_id IN (SELECT record_id FROM copilot_use);

-- view: copilot_read_items
-- Each distinct item Copilot read (copilot_resource_reads), with THE definition of unlabelled: an item is unlabelled when it carried no sensitivity label on every read (a label applied later, or seen on any read, makes it labelled). Web results cannot carry a label (kind Web results) and are outside the unlabelled share; in_unlabelled_share marks the items the share counts.
--   item: the item read
--   kind: Files, Emails, Web results or Other (the kind of its first read)
--   site: its site (the first one seen)
--   unlabelled: no read carried a label
--   in_unlabelled_share: counted in the share of unlabelled items (every kind but Web results)
--   reads: how many times Copilot read it
CREATE OR REPLACE VIEW copilot_read_items AS
SELECT item, min(kind) AS kind, min(site) AS site, NOT bool_or(labelled) AS unlabelled,
       min(kind) <> 'Web results' AS in_unlabelled_share, count(*) AS reads
FROM copilot_resource_reads
WHERE item IS NOT NULL
GROUP BY item;
