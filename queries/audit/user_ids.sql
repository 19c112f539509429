-- Fill copilot_interaction_facts.user_id for records whose user was not known when
-- they landed (for example an import before the first licence collection).
-- Users are matched by lower-case user principal name, latest version first.
UPDATE copilot_interaction_facts f
SET user_id = m.user_id
FROM audit_user_map m
WHERE f.user_id IS NULL AND f.user_principal_name = m.upn;
