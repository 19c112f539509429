-- id: usage_no_prompt_injection
-- title: Copilot read no content carrying a prompt injection
-- severity: high
-- clause: Security of AI use (every policy; no key to set)
-- rationale: A cross-prompt injection (XPIA) is text hidden in a file, email or web page that tries
--   to steer Copilot when it reads it, for example to leak data. Microsoft flags the resource; the
--   finding names it so it can be removed and its source traced.
-- remediation: Owner: information security. Find the item Copilot read in the Microsoft Purview portal (DSPM
--   for AI > Activity explorer), remove or quarantine it, and trace where it came from (an external email, a
--   shared file, a web page); block the sender or site where it was deliberate.
-- reads: copilot_accessed_resources, copilot_interactions
-- needs: audit_records
WITH flagged AS (
    SELECT coalesce(nullif(r.site_url, ''), nullif(r.resource_id, ''), nullif(r.resource_name, ''),
                    'unknown resource') AS resource,
           r.resource_type, r.resource_name, lower(i.user_principal_name) AS upn, i.created_at
    FROM copilot_accessed_resources r
    JOIN copilot_interactions i USING (record_id)
    WHERE r.xpia_detected
)
SELECT
    resource AS subject,
    'prompt injection detected in ' || coalesce(min(resource_type), 'resource')
        || coalesce(' "' || min(resource_name) || '"', '') || ', read by Copilot ' || count(*)
        || ' time(s) for ' || array_to_string(list(DISTINCT upn ORDER BY upn), ', ')
        || ', last ' || strftime(max(created_at), '%Y-%m-%d') AS detail
FROM flagged
GROUP BY resource
ORDER BY subject;
