-- id: usage_no_jailbreak_attempts
-- title: No Copilot prompt was flagged as a jailbreak attempt
-- severity: high
-- clause: Ethical and acceptable use of AI (every policy; no key to set)
-- rationale: Microsoft flags prompts that try to make Copilot ignore its safeguards. The policies
--   forbid using AI to produce harmful or inappropriate content; a flagged prompt is worth a
--   conversation with the person, whatever the intent.
-- remediation: Owner: information security, with HR where conduct is in question. Review the interaction in
--   the Microsoft Purview portal (DSPM for AI > Activity explorer, or Communication compliance), decide
--   whether it breached the acceptable use policy and speak to the person; repeated attempts are a
--   disciplinary matter under the AI policy.
-- reads: copilot_messages, copilot_interactions
-- needs: audit_records
SELECT
    lower(i.user_principal_name) AS subject,
    count(*) || ' prompt(s) flagged as jailbreak attempts, last ' || strftime(max(i.created_at), '%Y-%m-%d %H:%M')
        || ' UTC in ' || arg_max(CASE WHEN i.app = 'other' THEN coalesce(i.app_host, 'an unknown app') ELSE i.app END, i.created_at) AS detail
FROM copilot_messages m
JOIN copilot_interactions i USING (record_id)
WHERE m.jailbreak_detected
GROUP BY lower(i.user_principal_name)
ORDER BY subject;
