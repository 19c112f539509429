-- id: policy_reviewed_within_cycle
-- title: The AI policy was reviewed within its review cycle
-- severity: medium
-- clause: [policy] reviewed_on and review_every_months
-- rationale: The policies commit to an annual review because AI tools, guidance and law change
--   quickly. An overdue review means staff work to rules written for tools that have since changed.
-- remediation: Owner: the senior information risk owner (SIRO) or the AI governance board. Review the AI
--   policy, record the decision, and set [policy] reviewed_on in the policy file to the day of the review.
-- reads: none
-- needs: reviewed_on
SELECT
    $policy_name::VARCHAR AS subject,
    'last reviewed ' || strftime($reviewed_on::DATE, '%Y-%m-%d') || '; the review was due by '
        || strftime(($reviewed_on::DATE + to_months($review_every_months::INTEGER))::DATE, '%Y-%m-%d') AS detail
WHERE ($reviewed_on::DATE + to_months($review_every_months::INTEGER))::DATE < $check_date::DATE;
