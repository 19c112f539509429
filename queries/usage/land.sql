-- Land the staged Copilot usage report (temp table usage_staged, all text) into
-- usage_report_rows. Empty cells mean "never". A user principal name that is a
-- 32-hex hash, or every row when the tenant's report setting conceals names, is
-- marked names_concealed: such rows must never be joined to users by name.
-- The loader sets usage_run_id, usage_source, usage_concealed and usage_collected_at.
INSERT INTO usage_report_rows
SELECT getvariable('usage_run_id'),
       getvariable('usage_source'),
       try_cast(nullif(trim(report_refresh_date), '') AS DATE),
       try_cast(nullif(trim(report_period), '') AS INTEGER),
       CASE WHEN contains(upn, '@') THEN lower(upn) ELSE upn END,
       display_name,
       getvariable('usage_concealed') OR regexp_full_match(upn, '[0-9A-Fa-f]{32}'),
       try_cast(nullif(trim(last_activity_date), '') AS DATE),
       try_cast(nullif(trim(copilot_chat_last_activity_date), '') AS DATE),
       try_cast(nullif(trim(teams_copilot_last_activity_date), '') AS DATE),
       try_cast(nullif(trim(word_copilot_last_activity_date), '') AS DATE),
       try_cast(nullif(trim(excel_copilot_last_activity_date), '') AS DATE),
       try_cast(nullif(trim(powerpoint_copilot_last_activity_date), '') AS DATE),
       try_cast(nullif(trim(outlook_copilot_last_activity_date), '') AS DATE),
       try_cast(nullif(trim(onenote_copilot_last_activity_date), '') AS DATE),
       try_cast(nullif(trim(loop_copilot_last_activity_date), '') AS DATE),
       getvariable('usage_collected_at')
FROM (SELECT *, trim(user_principal_name) AS upn FROM usage_staged)
WHERE nullif(upn, '') IS NOT NULL;
