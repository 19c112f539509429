-- What every table needs of a parsed record, from AuditData first and what the source
-- says outside it second, and why a record cannot be loaded. Used by parse.sql when a
-- record is first parsed and by rescue.sql when it is parsed again, so both agree.
-- audit_is_audited and audit_record_type are made in m365audit/store/audit.py from
-- the list of audited record types.
CREATE OR REPLACE TEMP MACRO audit_record_id(data_id, fallback_id) AS
    coalesce(nullif(trim(data_id), ''), nullif(trim(fallback_id), ''));

-- Only instants written as years 2000-2099 are read: the audit log holds nothing older, and a
-- CreationTime such as 9999-12-31 or 0001-01-01 (DuckDB accepts both; Python's datetime, which
-- reads the landed range, cannot shift them) is a bad row, reported like any other.
CREATE OR REPLACE TEMP MACRO audit_this_century(t) AS CASE WHEN t LIKE '20__-%' THEN t END;

CREATE OR REPLACE TEMP MACRO audit_created_at(data_time, fallback_time) AS
    coalesce(audit_instant(audit_this_century(trim(data_time))),
             audit_instant(audit_this_century(trim(fallback_time))));

CREATE OR REPLACE TEMP MACRO audit_upn(data_upn, fallback_upn) AS
    nullif(lower(trim(coalesce(data_upn, fallback_upn))), '');

-- NULL (no problem) for record types this tool does not audit: they are skipped and counted.
CREATE OR REPLACE TEMP MACRO audit_problem(record_type, staged_problem, empty, starts_object, parsed,
                                           record_id, created_at) AS
    CASE
        WHEN NOT audit_is_audited(record_type) THEN NULL
        WHEN staged_problem IS NOT NULL THEN staged_problem
        WHEN empty THEN 'AuditData is empty'
        WHEN NOT starts_object THEN 'AuditData is not a JSON object'
        WHEN NOT parsed THEN 'AuditData is not valid JSON'
        WHEN record_id IS NULL THEN 'AuditData has no Id'
        WHEN created_at IS NULL THEN 'AuditData has no valid CreationTime'
        WHEN record_type IS NULL THEN 'AuditData has no RecordType'
    END;
