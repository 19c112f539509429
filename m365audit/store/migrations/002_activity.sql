-- Copilot activity: audit records (raw and normalised), usage reports, sensitivity labels.
--
-- audit_records holds one row per audit record, from Graph's audit log query
-- API or from a Purview CSV export, deduplicated by record_id. The copilot_*
-- tables are derived from audit_data in SQL when records land, so checks and
-- reports over millions of records read narrow typed tables, not JSON.

CREATE TABLE audit_records (
    record_id            VARCHAR NOT NULL,   -- AuditData.Id (= auditLogRecord.id)
    created_at           TIMESTAMPTZ NOT NULL,  -- AuditData.CreationTime, as UTC
    record_type          VARCHAR,            -- CopilotInteraction, AIAppInteraction, ...
    operation            VARCHAR,
    user_principal_name  VARCHAR,            -- AuditData.UserId (lower-cased)
    user_key             VARCHAR,            -- AuditData.UserKey
    organization_id      VARCHAR,
    source               VARCHAR NOT NULL,   -- graph or purview-csv
    run_id               VARCHAR NOT NULL,
    ingested_at          TIMESTAMPTZ NOT NULL,
    audit_data           JSON                -- AuditData as received; NULL once purged by retention
);

CREATE TABLE copilot_interaction_facts (
    record_id            VARCHAR NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    user_principal_name  VARCHAR,
    user_id              VARCHAR,            -- Entra object id when the UPN matched a user, else NULL
    record_type          VARCHAR,
    operation            VARCHAR,
    app_host             VARCHAR,            -- CopilotEventData.AppHost as received (open set)
    app_identity         VARCHAR,
    thread_id            VARCHAR,
    agent_id             VARCHAR,
    agent_name           VARCHAR,
    client_region        VARCHAR
);

CREATE TABLE copilot_accessed_resource_facts (
    record_id             VARCHAR NOT NULL,
    resource_id           VARCHAR,
    resource_name         VARCHAR,
    resource_type         VARCHAR,
    site_url              VARCHAR,
    sensitivity_label_id  VARCHAR,
    action                VARCHAR,
    status                VARCHAR,
    xpia_detected         BOOLEAN
);

CREATE TABLE copilot_message_facts (
    record_id           VARCHAR NOT NULL,
    message_id          VARCHAR,
    is_prompt           BOOLEAN,
    jailbreak_detected  BOOLEAN
);

CREATE TABLE copilot_context_facts (
    record_id     VARCHAR NOT NULL,
    context_id    VARCHAR,
    context_type  VARCHAR
);

CREATE TABLE copilot_plugin_facts (
    record_id       VARCHAR NOT NULL,
    plugin_id       VARCHAR,
    plugin_name     VARCHAR,
    plugin_version  VARCHAR
);

-- Rows of the Copilot usage report (per-user last activity by app), per collection.
CREATE TABLE usage_report_rows (
    run_id                                VARCHAR NOT NULL,
    source                                VARCHAR NOT NULL,  -- graph-v1.0, graph-beta, admin-centre-csv
    report_refresh_date                   DATE,
    report_period                         INTEGER,           -- days
    user_principal_name                   VARCHAR,           -- or a 32-hex hash when names are concealed
    display_name                          VARCHAR,
    names_concealed                       BOOLEAN NOT NULL,
    last_activity_date                    DATE,
    copilot_chat_last_activity_date       DATE,
    teams_copilot_last_activity_date      DATE,
    word_copilot_last_activity_date       DATE,
    excel_copilot_last_activity_date      DATE,
    powerpoint_copilot_last_activity_date DATE,
    outlook_copilot_last_activity_date    DATE,
    onenote_copilot_last_activity_date    DATE,
    loop_copilot_last_activity_date       DATE,
    collected_at                          TIMESTAMPTZ NOT NULL
);

CREATE TABLE sensitivity_label_versions (
    label_id        VARCHAR NOT NULL,
    name            VARCHAR,
    display_name    VARCHAR,
    sensitivity     INTEGER,
    parent_id       VARCHAR,
    is_active       BOOLEAN,
    has_protection  BOOLEAN,
    row_hash        UBIGINT NOT NULL,
    valid_from      TIMESTAMPTZ NOT NULL,
    valid_to        TIMESTAMPTZ,
    run_id          VARCHAR NOT NULL
);
