-- id: licence_copilot_assigned_by_group
-- title: Copilot seats are assigned only through the groups the policy names
-- severity: low
-- clause: [licences] copilot_groups
-- rationale: Assigning seats through named groups keeps the list of holders in one place, where
--   managers approve it and leavers drop out. A seat assigned directly, or through some other
--   group, escapes that control and is usually forgotten.
-- remediation: Owner: the Microsoft 365 licensing administrator. Add the person to one of the policy's
--   Copilot groups (Entra admin centre > Groups > the group > Members) so group-based licensing assigns the
--   seat, then remove the direct assignment (Microsoft 365 admin centre > Users > Active users > the user >
--   Licences and apps, or Graph `assignLicense` with removeLicenses).
-- reads: licence_assignments, copilot_seat_holders, groups
-- needs: licence_snapshot, copilot_groups
WITH outside AS (
    SELECT a.user_id,
           CASE WHEN a.assigned_by_group IS NULL THEN 'assigned directly'
                ELSE 'assigned through group ' || coalesce(g.group_name, a.assigned_by_group) END AS source
    FROM licence_assignments a
    LEFT JOIN groups g ON g.group_id = a.assigned_by_group
    WHERE a.holds_copilot_seat
      AND (a.assigned_by_group IS NULL
           OR NOT (list_contains($copilot_groups::VARCHAR[], lower(a.assigned_by_group))
                   OR list_contains($copilot_groups::VARCHAR[], lower(g.group_name))))
)
SELECT
    h.user_principal_name AS subject,
    'Copilot seat ' || string_agg(DISTINCT o.source, ' and ' ORDER BY o.source)
        || ', not through a group named in the policy' AS detail
FROM outside o
JOIN copilot_seat_holders h USING (user_id)
GROUP BY h.user_principal_name
ORDER BY subject;
