-- id: licence_assignment_no_errors
-- title: No licence assignment is in an error state
-- severity: low
-- clause: Licences are assigned as the organisation intends (every policy; no key to set)
-- rationale: A failed group-based assignment (for example CountViolation when the tenant has run out
--   of seats, or a missing prerequisite plan) leaves a person without the licence the organisation
--   decided they should have, or with one in a degraded state, and nobody is told.
-- remediation: Owner: the Microsoft 365 licensing administrator. Open the Entra admin centre > Groups > the
--   group > Licences to see each error (count violation, mutually exclusive or missing dependent plans, no
--   usage location), fix its cause and press Reprocess; a direct assignment is fixed in the Microsoft 365
--   admin centre > Users > Active users > the user > Licences and apps, or with Graph `POST
--   /users/{id}/assignLicense`.
-- reads: licence_assignments, users, groups
-- needs: licence_snapshot
SELECT
    u.user_principal_name AS subject,
    string_agg(
        coalesce(a.sku_part_number, a.sku_id)
            || CASE WHEN a.assigned_by_group IS NULL THEN ' (direct)'
                    ELSE ' (group ' || coalesce(g.group_name, a.assigned_by_group) || ')' END
            || ': ' || coalesce(a.error, 'state ' || a.state),
        '; ' ORDER BY coalesce(a.sku_part_number, a.sku_id), coalesce(g.group_name, a.assigned_by_group)
    ) AS detail
FROM licence_assignments a
JOIN users u USING (user_id)
LEFT JOIN groups g ON g.group_id = a.assigned_by_group
WHERE a.error IS NOT NULL OR a.state IN ('Error', 'ActiveWithError')
GROUP BY u.user_principal_name
ORDER BY subject;
