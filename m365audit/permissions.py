"""Which Microsoft Graph application permission each path needs.

Kept apart from the collector (which imports msgraph) so the simulated
tenant can deny a permission and `doctor` can explain one without loading
the SDK.
"""

from __future__ import annotations

# Path prefix (without the version) -> the least-privileged application permission.
PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("/subscribedSkus", "Organization.Read.All"),
    ("/organization", "Organization.Read.All"),
    ("/users/delta", "User.Read.All"),
    ("/groups", "GroupMember.Read.All"),
    ("/directory/administrativeUnits", "AdministrativeUnit.Read.All"),
    ("/security/auditLog", "AuditLogsQuery.Read.All"),
    ("/copilot/reports", "Reports.Read.All"),
    ("/reports", "Reports.Read.All"),
    ("/admin/reportSettings", "ReportSettings.Read.All"),
    ("/security/dataSecurityAndGovernance/sensitivityLabels", "SensitivityLabels.Read.All"),
    ("/security/informationProtection/sensitivityLabels", "InformationProtectionPolicy.Read.All"),
)
# sendMail is checked before /users: sending needs Mail.Send, reading users does not.
_SEND_MAIL_SUFFIX = "/sendmail"


def permission_for(path: str) -> str | None:
    """The permission a Graph path needs, e.g. ``/users?$top=1`` -> ``User.Read.All``."""
    bare = path.split("?", 1)[0]
    if bare.lower().rstrip("/").endswith(_SEND_MAIL_SUFFIX):
        return "Mail.Send"
    for prefix, permission in PERMISSIONS:
        if bare.startswith(prefix):
            return permission
    if bare.startswith("/users"):
        return "User.Read.All"
    return None


def grant_instructions(permission: str) -> str:
    """How an administrator grants one application permission, without hard-coded ids."""
    return (
        f"In the Entra admin centre open App registrations > (this app) > API permissions > "
        f"Add a permission > Microsoft Graph > Application permissions, tick {permission}, "
        f"then Grant admin consent. With the Azure CLI: "
        f"az ad app permission add --id $APP_ID --api 00000003-0000-0000-c000-000000000000 "
        f"--api-permissions $(az ad sp show --id 00000003-0000-0000-c000-000000000000 "
        f"--query \"appRoles[?value=='{permission}'].id\" -o tsv)=Role && "
        f"az ad app permission admin-consent --id $APP_ID"
    )
