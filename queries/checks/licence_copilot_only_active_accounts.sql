-- id: licence_copilot_only_active_accounts
-- title: Only enabled accounts hold Copilot seats
-- severity: medium
-- clause: Copilot seats go to current staff (every policy; no key to set)
-- rationale: A blocked account is usually a leaver whose seat was never reclaimed. The seat is paid
--   for every month, and it works again the moment the account is re-enabled.
-- remediation: Owner: the Microsoft 365 licensing administrator, with HR's leavers process. Remove the person
--   from the Copilot group (or remove the directly assigned licence in the Microsoft 365 admin centre > Users
--   > Active users > Licences and apps) so the seat returns to the pool; make licence removal a step of the
--   leavers checklist.
-- reads: copilot_seat_holders
-- needs: licence_snapshot
SELECT
    user_principal_name AS subject,
    'account is disabled but holds a Copilot seat'
        || coalesce(' (seat since ' || strftime(seat_since, '%Y-%m-%d') || ')', '') AS detail
FROM copilot_seat_holders
WHERE NOT coalesce(account_enabled, true)
ORDER BY subject;
