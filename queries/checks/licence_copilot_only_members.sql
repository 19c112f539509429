-- id: licence_copilot_only_members
-- title: Only members of the organisation hold Copilot seats (no guests)
-- severity: high
-- clause: Copilot is for the organisation's own staff (every policy; no key to set)
-- rationale: Copilot answers from everything its user can reach in the tenant. A guest account
--   (a partner, contractor or supplier) with a seat brings that reach to someone outside the
--   organisation, and guest seats are rarely covered by the organisation's DPIA.
-- remediation: Owner: the Microsoft 365 licensing administrator with the identity team. Remove the Copilot
--   licence from the guest account (Entra admin centre > Users > the user > Licences); if the person is
--   staff, give them a member account and license that instead, and keep guests out of the Copilot groups (a
--   dynamic group rule `user.userType -eq "Member"`).
-- reads: copilot_seat_holders
-- needs: licence_snapshot
SELECT
    user_principal_name AS subject,
    CASE WHEN user_type = 'Guest' THEN 'guest account holds a Copilot seat'
         ELSE 'account of type ' || coalesce(user_type, 'unknown') || ', not Member, holds a Copilot seat'
    END AS detail
FROM copilot_seat_holders
WHERE coalesce(user_type, '') <> 'Member'
ORDER BY subject;
