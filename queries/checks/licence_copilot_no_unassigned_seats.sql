-- id: licence_copilot_no_unassigned_seats
-- title: No more Copilot seats are bought than are assigned, beyond the tolerance
-- severity: low
-- clause: [licences] unassigned_seat_tolerance
-- rationale: Purchased seats nobody holds are paid for every month. A small number kept for new
--   starters can be tolerated; the policy says how many, per Copilot SKU.
-- remediation: Owner: the Microsoft 365 licensing administrator with finance. Give the spare seats to people
--   on the waiting list (add them to the Copilot group), or lower the subscription's quantity at its next
--   renewal in the Microsoft 365 admin centre > Billing > Your products > the subscription > Remove licences.
-- reads: skus
-- needs: licence_snapshot
SELECT
    sku_part_number AS subject,
    (purchased - assigned) || ' of ' || purchased || ' purchased seats are unassigned (tolerance '
        || $unassigned_seat_tolerance::INTEGER || ')' AS detail
FROM skus
WHERE is_copilot
  AND coalesce(purchased, 0) - coalesce(assigned, 0) > $unassigned_seat_tolerance::INTEGER
ORDER BY subject;
