-- Licence views: SKUs, users and licence assignments, at the latest snapshot
-- or at any past snapshot time through the *_at(ts) table macros.
--
-- A Copilot seat is decided by service plan: an assignment holds a seat when
-- one of the plans with role 'copilot_seat' in reference_service_plans is part
-- of the SKU and not listed in that assignment's disabled_plans. For a SKU
-- whose plans were never seen, the known Copilot SKU ids are the fallback.
-- Copilot Chat needs no licence (see 036_copilot_chat.sql): the retired Bing_Chat_Enterprise
-- plan (role 'retired_copilot_chat') is never a seat and grants nothing.

CREATE OR REPLACE MACRO skus_at(ts) AS TABLE
SELECT
    s.sku_id,
    s.sku_part_number,
    s.prepaid_enabled AS purchased,
    s.consumed_units AS assigned,
    s.capability_status,
    (EXISTS (SELECT 1 FROM sku_plan_versions p
             JOIN reference_service_plans r
               ON r.service_plan_id = p.service_plan_id AND r.role = 'copilot_seat'
             WHERE p.sku_id = s.sku_id AND p.valid_from <= ts
               AND (p.valid_to IS NULL OR p.valid_to > ts))
     OR s.sku_id IN (SELECT sku_id FROM reference_copilot_skus)) AS is_copilot,
    (EXISTS (SELECT 1 FROM sku_plan_versions p
             JOIN reference_service_plans r
               ON r.service_plan_id = p.service_plan_id AND r.role = 'retired_copilot_chat'
             WHERE p.sku_id = s.sku_id AND p.valid_from <= ts
               AND (p.valid_to IS NULL OR p.valid_to > ts))) AS includes_copilot_chat,
    (SELECT max(taken_at) FROM snapshots WHERE taken_at <= ts) AS snapshot_at
FROM sku_versions s
WHERE s.valid_from <= ts AND (s.valid_to IS NULL OR s.valid_to > ts);

CREATE OR REPLACE MACRO users_at(ts) AS TABLE
SELECT
    u.user_id,
    u.user_principal_name,
    u.display_name,
    u.department,
    u.company_name,
    u.job_title,
    u.account_enabled,
    u.user_type,
    u.created_at,
    (SELECT max(taken_at) FROM snapshots WHERE taken_at <= ts) AS snapshot_at
FROM user_versions u
WHERE u.valid_from <= ts AND (u.valid_to IS NULL OR u.valid_to > ts);

CREATE OR REPLACE MACRO licence_assignments_at(ts) AS TABLE
WITH
sku_plans AS (
    SELECT sku_id, list(service_plan_id) AS plan_ids
    FROM sku_plan_versions
    WHERE valid_from <= ts AND (valid_to IS NULL OR valid_to > ts)
    GROUP BY sku_id
),
seat_plans AS (
    SELECT list(service_plan_id) AS ids FROM reference_service_plans WHERE role = 'copilot_seat'
),
assignments AS (
    SELECT
        a.*,
        coalesce(
            list_intersect(p.plan_ids, sp.ids),
            CASE WHEN a.sku_id IN (SELECT sku_id FROM reference_copilot_skus) THEN sp.ids END,
            []
        ) AS seat_plan_ids
    FROM licence_assignment_versions a
    LEFT JOIN sku_plans p USING (sku_id)
    CROSS JOIN seat_plans sp
    WHERE a.valid_from <= ts AND (a.valid_to IS NULL OR a.valid_to > ts)
)
SELECT
    a.user_id,
    a.sku_id,
    s.sku_part_number,
    a.assigned_by_group,
    a.state,
    a.error,
    a.disabled_plans,
    len(list_filter(a.seat_plan_ids,
        lambda plan: NOT list_contains(coalesce(a.disabled_plans, []), plan))) > 0 AS is_copilot,
    (len(list_filter(a.seat_plan_ids,
        lambda plan: NOT list_contains(coalesce(a.disabled_plans, []), plan))) > 0
     AND a.state IN ('Active', 'ActiveWithError')) AS holds_copilot_seat,
    (SELECT max(taken_at) FROM snapshots WHERE taken_at <= ts) AS snapshot_at
FROM assignments a
LEFT JOIN (SELECT sku_id, sku_part_number FROM sku_versions
           WHERE valid_from <= ts AND (valid_to IS NULL OR valid_to > ts)) s USING (sku_id);

-- view: skus
-- One row per SKU the tenant subscribes to, at the latest snapshot.
--   sku_id: the SKU's GUID (Graph skuId)
--   sku_part_number: e.g. Microsoft_365_Copilot, ENTERPRISEPACK
--   purchased: prepaidUnits.enabled
--   assigned: consumedUnits
--   capability_status: Enabled, Warning, Suspended, Deleted or LockedOut
--   is_copilot: the SKU carries a Copilot seat service plan (or is a known Copilot SKU)
--   includes_copilot_chat: the SKU lists the retired Bing_Chat_Enterprise plan (informational: Copilot Chat needs no licence; who may use it is copilot_chat_entitlement)
--   snapshot_at: when the snapshot was taken
CREATE OR REPLACE VIEW skus AS
SELECT * FROM skus_at(coalesce((SELECT max(taken_at) FROM snapshots), TIMESTAMPTZ '1970-01-01'));

-- view: users
-- One row per user at the latest snapshot.
--   user_id: Entra object id
--   user_principal_name: sign-in name
--   display_name: display name
--   department: department as held in Entra ID (NULL when empty)
--   company_name: companyName
--   job_title: jobTitle
--   account_enabled: false for blocked accounts
--   user_type: Member or Guest
--   created_at: createdDateTime
--   snapshot_at: when the snapshot was taken
CREATE OR REPLACE VIEW users AS
SELECT * FROM users_at(coalesce((SELECT max(taken_at) FROM snapshots), TIMESTAMPTZ '1970-01-01'));

-- view: licence_assignments
-- One row per user, SKU and assignment source (licenseAssignmentStates), at the latest snapshot.
--   user_id: Entra object id of the user
--   sku_id: the SKU's GUID
--   sku_part_number: the SKU's part number
--   assigned_by_group: group id for group-based licensing, NULL for a direct assignment
--   state: Active, ActiveWithError, Disabled or Error
--   error: NULL when fine, else CountViolation, MutuallyExclusiveViolation, DependencyViolation, ...
--   disabled_plans: service plan ids switched off in this assignment
--   is_copilot: the assignment carries a Copilot seat plan that is not disabled
--   holds_copilot_seat: is_copilot and state is Active or ActiveWithError
--   snapshot_at: when the snapshot was taken
CREATE OR REPLACE VIEW licence_assignments AS
SELECT * FROM licence_assignments_at(
    coalesce((SELECT max(taken_at) FROM snapshots), TIMESTAMPTZ '1970-01-01'));
