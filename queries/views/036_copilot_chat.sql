-- Who may use Microsoft 365 Copilot Chat. Defined here once; the FOI answer, the manager
-- report and the docs read it.
--
-- Copilot Chat (web-grounded chat, formerly Bing Chat Enterprise) is "available at no
-- additional cost for all Microsoft Entra account users with a Microsoft 365 or Office 365
-- subscription" (Microsoft 365 Copilot documentation, agents admin guide, "Identify your
-- Copilot licensing scenario"; the eligible licences are listed in "Manage Microsoft 365
-- Copilot Chat", section "eligibility": Microsoft 365 A/Business/E/F/G, Office 365
-- A/E/F/G, Teams). It is not a licence of its own: the Bing_Chat_Enterprise service plan
-- that used to stand for it is marked "RETIRED" in Microsoft's licensing reference CSV
-- (migration 031) and is not read here. So the people who may use Copilot Chat are the
-- enabled member accounts: accountEnabled true and userType Member (guests use their own
-- organisation's). An enabled member account without any Microsoft 365 or Office 365
-- licence (an unlicensed service account, say) is counted too: this is an upper bound.
-- The users the database holds are already limited to its --scope. Microsoft 365 Copilot,
-- the paid seat, is licence_assignments.holds_copilot_seat and is counted apart everywhere.
--
-- Who used Copilot Chat is the audit log's business (copilot_interactions), not this file's.

CREATE OR REPLACE MACRO copilot_chat_entitlement_at(ts) AS TABLE
SELECT u.user_id, u.user_principal_name, u.department,
       EXISTS (SELECT 1 FROM licence_assignments_at(ts) a
               WHERE a.user_id = u.user_id AND a.holds_copilot_seat) AS holds_copilot_seat,
       u.snapshot_at
FROM users_at(ts) u
WHERE u.account_enabled IS TRUE AND lower(u.user_type) = 'member';

-- view: copilot_chat_entitlement
-- One row per person who may use Microsoft 365 Copilot Chat at the latest snapshot: every
-- enabled member account (Copilot Chat needs no licence; the retired Bing_Chat_Enterprise
-- service plan is not read). Within the database's scope.
--   user_id: Entra object id
--   user_principal_name: sign-in name
--   department: department (NULL when empty)
--   holds_copilot_seat: also holds a working Microsoft 365 Copilot seat (the paid licence)
--   snapshot_at: when the snapshot was taken
CREATE OR REPLACE VIEW copilot_chat_entitlement AS
SELECT * FROM copilot_chat_entitlement_at(
    coalesce((SELECT max(taken_at) FROM snapshots), TIMESTAMPTZ '1970-01-01'));
