-- id: usage_copilot_users_trained
-- title: Everyone who holds a Copilot seat or uses Copilot has completed AI training
-- severity: medium
-- clause: [usage] training_group
-- rationale: The policies ask for training before first use of AI tools that touch personal data.
--   Membership of the training group is the record of that training. People who use the free
--   Copilot Chat without a seat count too, when audit records show their use; activity by accounts
--   that are not among the collected users cannot be judged and is left out.
-- remediation: Owner: the Copilot service owner with learning and development. Enrol the people named in the
--   AI training and add each to the policy's training group when they complete it (Entra admin centre >
--   Groups > the group > Members); the policy may ask for the seat to be withheld until then.
-- reads: group_members, copilot_seat_holders, copilot_use, users
-- needs: licence_snapshot, training_group
WITH trained AS (
    SELECT DISTINCT user_id FROM group_members
    WHERE lower(group_name) = $training_group OR lower(group_id) = $training_group
),
activity AS (
    SELECT u.user_id, u.user_principal_name, count(DISTINCT i.created_at::DATE) AS days,
           max(i.created_at)::DATE AS last_day
    FROM copilot_use i
    JOIN users u ON lower(u.user_principal_name) = lower(i.user_principal_name)
    GROUP BY ALL
),
copilot_users AS (
    SELECT user_id, user_principal_name, 'holds a Copilot seat' AS evidence FROM copilot_seat_holders
    UNION ALL
    SELECT user_id, user_principal_name,
           'used Copilot on ' || days || ' day(s), last ' || strftime(last_day, '%Y-%m-%d') FROM activity
)
SELECT
    user_principal_name AS subject,
    string_agg(evidence, '; ' ORDER BY evidence) || '; not a member of the training group' AS detail
FROM copilot_users
WHERE user_id NOT IN (SELECT user_id FROM trained)
GROUP BY user_principal_name
ORDER BY subject;
