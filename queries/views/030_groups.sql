-- Group views: the tenant's groups and the members collected for them, at the
-- latest directory snapshot. Members are collected for groups that assign
-- licences and for groups named at collection time (`collect --group NAME`),
-- such as the AI training group a policy names.

-- view: groups
-- One row per group in the tenant at the latest snapshot.
--   group_id: Entra object id of the group
--   group_name: display name
--   assigned_sku_ids: SKUs the group assigns (group-based licensing); empty for other groups
CREATE OR REPLACE VIEW groups AS
SELECT group_id, display_name AS group_name, assigned_sku_ids
FROM group_versions WHERE valid_to IS NULL;

-- view: group_members
-- One row per group and user member (transitive: members of nested groups count), for the
-- groups whose members were collected. A group missing here had no members collected.
--   group_id: Entra object id of the group
--   group_name: the group's display name
--   user_id: Entra object id of the member (joins users.user_id)
CREATE OR REPLACE VIEW group_members AS
SELECT m.group_id, g.display_name AS group_name, m.user_id
FROM group_member_versions m
JOIN group_versions g ON g.group_id = m.group_id AND g.valid_to IS NULL
WHERE m.valid_to IS NULL;
