-- table: labels_unlabelled
-- title: Share of unlabelled resources Copilot read
-- Distinct resources Copilot read for the report's people, by kind, and how many were
-- unlabelled (no label on any read: the view copilot_read_items, the definition the
-- labels check uses). Web results cannot carry a label; the last row is the share the
-- policy's [labels] max_unlabelled_share judges (every kind but web results).
--   kind (text): Kind of resource
--   resources (int): Distinct resources
--   unlabelled (int): Without a label
--   unlabelled_share (percent): Share without a label
--   accesses (int): Accesses
WITH reads AS (
    SELECT r.item, count(*) AS accesses
    FROM copilot_resource_reads r JOIN report_interactions i USING (record_id)
    WHERE r.item IS NOT NULL
    GROUP BY r.item
),
items AS (SELECT c.*, reads.accesses FROM copilot_read_items c JOIN reads USING (item)),
kinds AS (SELECT * FROM (VALUES ('Files', 1), ('Emails', 2), ('Web results', 3), ('Other', 4)) k(kind, ord)),
rows_ AS (
    SELECT k.kind, k.ord, count(i.item) AS resources, count(i.item) FILTER (WHERE i.unlabelled) AS unlabelled,
           coalesce(sum(i.accesses), 0) AS accesses
    FROM kinds k LEFT JOIN items i USING (kind)
    GROUP BY k.kind, k.ord
    UNION ALL
    SELECT 'All but web results (the policy''s share)', 5, count(*), count(*) FILTER (WHERE unlabelled),
           coalesce(sum(accesses), 0)
    FROM items WHERE in_unlabelled_share
)
SELECT kind, resources, unlabelled,
       CASE WHEN resources > 0 THEN unlabelled / resources END AS unlabelled_share, accesses
FROM rows_
ORDER BY ord;
