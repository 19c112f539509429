-- Core schema: runs, collection state, raw pages, directory history.
--
-- History is kept as versions (type-2 slowly changing dimensions): a row is
-- valid from the snapshot that first saw it until the snapshot that saw it
-- change or disappear (valid_to NULL = still current). A licence count can
-- therefore be asked for any past snapshot date without storing every user
-- every night.

CREATE TABLE runs (
    run_id        VARCHAR PRIMARY KEY,
    command       VARCHAR NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    status        VARCHAR NOT NULL,          -- running, succeeded, failed
    tool_version  VARCHAR NOT NULL,
    graph_url     VARCHAR,
    scope         VARCHAR,                   -- e.g. "domain:example.gov.uk"; NULL = whole tenant
    counts        JSON,
    error         VARCHAR
);

-- Watermarks, delta links and other resumable state, one value per key.
CREATE TABLE collection_state (
    source      VARCHAR NOT NULL,
    key         VARCHAR NOT NULL,
    value       VARCHAR,
    run_id      VARCHAR NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, key)
);

-- Raw Graph pages as received, for the latest directory snapshot.
CREATE TABLE raw_pages (
    run_id      VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,            -- subscribedSkus, users, groups, group_members
    page_no     INTEGER NOT NULL,
    url         VARCHAR NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL,
    body        JSON NOT NULL
);

-- One row per completed directory snapshot (licences, users, groups).
CREATE TABLE snapshots (
    run_id       VARCHAR PRIMARY KEY,
    taken_at     TIMESTAMPTZ NOT NULL,
    scope        VARCHAR,
    users        BIGINT NOT NULL,
    assignments  BIGINT NOT NULL,
    skus         INTEGER NOT NULL
);

CREATE TABLE sku_versions (
    sku_id              VARCHAR NOT NULL,
    sku_part_number     VARCHAR,
    capability_status   VARCHAR,
    applies_to          VARCHAR,
    prepaid_enabled     BIGINT,
    prepaid_suspended   BIGINT,
    prepaid_warning     BIGINT,
    prepaid_locked_out  BIGINT,
    consumed_units      BIGINT,
    row_hash            UBIGINT NOT NULL,
    valid_from          TIMESTAMPTZ NOT NULL,
    valid_to            TIMESTAMPTZ,
    run_id              VARCHAR NOT NULL
);

CREATE TABLE sku_plan_versions (
    sku_id               VARCHAR NOT NULL,
    service_plan_id      VARCHAR NOT NULL,
    service_plan_name    VARCHAR,
    applies_to           VARCHAR,
    provisioning_status  VARCHAR,
    row_hash             UBIGINT NOT NULL,
    valid_from           TIMESTAMPTZ NOT NULL,
    valid_to             TIMESTAMPTZ,
    run_id               VARCHAR NOT NULL
);

CREATE TABLE user_versions (
    user_id              VARCHAR NOT NULL,
    user_principal_name  VARCHAR,
    display_name         VARCHAR,
    mail                 VARCHAR,
    department           VARCHAR,
    company_name         VARCHAR,
    job_title            VARCHAR,
    office_location      VARCHAR,
    account_enabled      BOOLEAN,
    user_type            VARCHAR,
    created_at           TIMESTAMPTZ,
    row_hash             UBIGINT NOT NULL,
    valid_from           TIMESTAMPTZ NOT NULL,
    valid_to             TIMESTAMPTZ,
    run_id               VARCHAR NOT NULL
);

-- licenseAssignmentStates: one row per user, SKU and source (direct or a group).
CREATE TABLE licence_assignment_versions (
    user_id            VARCHAR NOT NULL,
    sku_id             VARCHAR NOT NULL,
    assigned_by_group  VARCHAR,              -- NULL = assigned directly
    state              VARCHAR,
    error              VARCHAR,              -- NULL when fine (Graph says "None")
    disabled_plans     VARCHAR[],
    last_updated_at    TIMESTAMPTZ,
    row_hash           UBIGINT NOT NULL,
    valid_from         TIMESTAMPTZ NOT NULL,
    valid_to           TIMESTAMPTZ,
    run_id             VARCHAR NOT NULL
);

-- assignedPlans, kept only for Copilot and Copilot Chat service plans: they say
-- since when a user has held a plan (time to first use, FOI lower bounds).
CREATE TABLE assigned_plan_versions (
    user_id            VARCHAR NOT NULL,
    service_plan_id    VARCHAR NOT NULL,
    service            VARCHAR,
    capability_status  VARCHAR,
    assigned_at        TIMESTAMPTZ,
    row_hash           UBIGINT NOT NULL,
    valid_from         TIMESTAMPTZ NOT NULL,
    valid_to           TIMESTAMPTZ,
    run_id             VARCHAR NOT NULL
);

CREATE TABLE group_versions (
    group_id          VARCHAR NOT NULL,
    display_name      VARCHAR,
    assigned_sku_ids  VARCHAR[],
    row_hash          UBIGINT NOT NULL,
    valid_from        TIMESTAMPTZ NOT NULL,
    valid_to          TIMESTAMPTZ,
    run_id            VARCHAR NOT NULL
);

-- Transitive user members of licensing groups and of groups the policy names.
CREATE TABLE group_member_versions (
    group_id    VARCHAR NOT NULL,
    user_id     VARCHAR NOT NULL,
    row_hash    UBIGINT NOT NULL,
    valid_from  TIMESTAMPTZ NOT NULL,
    valid_to    TIMESTAMPTZ,
    run_id      VARCHAR NOT NULL
);

-- Reference data: which service plans make a Copilot seat. New Copilot SKUs
-- appear often, so a seat is decided by service plan, with SKU ids as fallback.
-- Rows can be added by an administrator without a new release.
CREATE TABLE reference_service_plans (
    service_plan_id    VARCHAR PRIMARY KEY,
    service_plan_name  VARCHAR NOT NULL,
    role               VARCHAR NOT NULL      -- copilot_seat, copilot_feature, copilot_chat
);
INSERT INTO reference_service_plans VALUES
    ('a62f8878-de10-42f3-b68f-6149a25ceb97', 'M365_COPILOT_APPS', 'copilot_seat'),
    ('b95945de-b3bd-46db-8437-f2beb6ea2347', 'M365_COPILOT_TEAMS', 'copilot_seat'),
    ('3f30311c-6b1e-48a4-ab79-725b469da960', 'M365_COPILOT_BUSINESS_CHAT', 'copilot_seat'),
    ('931e4a88-a67f-48b5-814f-16a5f1e6028d', 'M365_COPILOT_INTELLIGENT_SEARCH', 'copilot_feature'),
    ('89f1c4c8-0878-40f7-804d-869c9128ab5d', 'M365_COPILOT_CONNECTORS', 'copilot_feature'),
    ('82d30987-df9b-4486-b146-198b21d164c7', 'GRAPH_CONNECTORS_COPILOT', 'copilot_feature'),
    ('0aedf20c-091d-420b-aadf-30c042609612', 'M365_COPILOT_SHAREPOINT', 'copilot_feature'),
    ('fe6c28b3-d468-44ea-bbd0-a10a5167435c', 'COPILOT_STUDIO_IN_COPILOT_FOR_M365', 'copilot_feature'),
    ('0d0c0d31-fae7-41f2-b909-eaf4d7f26dba', 'Bing_Chat_Enterprise', 'copilot_chat');

CREATE TABLE reference_copilot_skus (
    sku_id           VARCHAR PRIMARY KEY,
    sku_part_number  VARCHAR NOT NULL
);
INSERT INTO reference_copilot_skus VALUES
    ('639dec6b-bb19-468b-871c-c5c441c4b0cb', 'Microsoft_365_Copilot'),
    ('a809996b-059e-42e2-9866-db24b99a9782', 'M365_Copilot'),
    ('ad9c22b3-52d7-4e7e-973c-88121ea96436', 'Microsoft_365_Copilot_EDU');
