-- id: labels_copilot_resources_labelled
-- title: At most max_unlabelled_share of the files and emails Copilot reads are unlabelled
-- severity: medium
-- clause: [labels] max_unlabelled_share
-- rationale: Labels are how Copilot and data loss prevention know what is sensitive; content with no
--   label gets no protection. The share counts distinct files and emails Copilot read (web results
--   cannot carry a label and are left out) and is judged across the tenant, with the sites holding
--   the most unlabelled items named.
-- reads: copilot_accessed_resources
-- needs: audit_records
WITH reads AS (
    SELECT coalesce(nullif(resource_id, ''), nullif(site_url, ''), resource_name) AS item,
           regexp_extract(site_url, '^(https?://[^/]+(/(sites|teams|personal)/[^/?]+)?)', 1) AS site,
           coalesce(sensitivity_label_id, '') = '' AS unlabelled
    FROM copilot_accessed_resources
    WHERE lower(coalesce(resource_type, '')) NOT IN ('websearch', 'web', 'webpage', 'weblink', 'bingwebsearch')
),
items AS (
    -- An item counts as unlabelled when it carried no label every time Copilot read it.
    SELECT item, min(site) AS site, bool_and(unlabelled) AS unlabelled
    FROM reads WHERE item IS NOT NULL GROUP BY item
),
totals AS (
    SELECT count(*) AS total, count(*) FILTER (WHERE unlabelled) AS unlabelled FROM items
),
top_sites AS (
    SELECT string_agg(coalesce(nullif(site, ''), '(no site)') || ' (' || n || ')', ', ' ORDER BY n DESC, site)
               AS sites
    FROM (SELECT site, count(*) AS n FROM items WHERE unlabelled GROUP BY site
          ORDER BY n DESC, site LIMIT 3)
)
SELECT
    'tenant' AS subject,
    unlabelled || ' of ' || total || ' items Copilot read carried no sensitivity label ('
        || round(100.0 * unlabelled / total, 1) || '%, limit '
        || round(100.0 * $max_unlabelled_share::DOUBLE, 1) || '%); most unlabelled: ' || sites AS detail
FROM totals, top_sites
WHERE total > 0 AND unlabelled > $max_unlabelled_share::DOUBLE * total;
