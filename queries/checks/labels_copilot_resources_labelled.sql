-- id: labels_copilot_resources_labelled
-- title: At most max_unlabelled_share of the files and emails Copilot reads are unlabelled
-- severity: medium
-- clause: [labels] max_unlabelled_share
-- rationale: Labels are how Copilot and data loss prevention know what is sensitive; content with no
--   label gets no protection. The share counts distinct items Copilot read with no label on any read
--   (the view copilot_read_items defines unlabelled; web results cannot carry a label and are left out),
--   is judged across the tenant, and names the sites holding the most unlabelled items.
-- remediation: Owner: the information governance lead. In the Microsoft Purview portal, Information
--   protection > Policies, publish a default label for documents and emails, set a default sensitivity label
--   on the document libraries of the sites named in the evidence (library settings), and add an
--   auto-labelling policy for the content they hold; then run `m365audit collect` and `m365audit check` again
--   to see the share fall.
-- reads: copilot_read_items
-- needs: audit_records
WITH items AS (
    SELECT item, site, unlabelled FROM copilot_read_items WHERE in_unlabelled_share
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
