"""`m365audit doctor`: is everything in place for the nightly job, and if not, how to fix it.

Checks, in order: the configuration; a token from the credential; each Graph
permission the tool needs, by one minimal read (a 403 means not granted);
whether usage reports conceal names; the database (present, private, current)
and whether audit data is arriving in it. Each check says ok, warning (works,
but worth a look) or missing (the nightly job will fail or lose data), with
what to do. Nothing is written anywhere.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from m365audit.errors import CollectionError, M365AuditError
from m365audit.ops.config import RunConfig
from m365audit.permissions import grant_instructions
from m365audit.wording import plural

OK, WARNING, MISSING = "ok", "warning", "missing"


@dataclass(frozen=True)
class Probe:
    name: str
    status: str
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class GraphProbe:
    permission: str
    purpose: str
    paths: tuple[str, ...]  # tried in order; the first that exists decides


PROBES = (
    GraphProbe("Organization.Read.All", "subscribed SKUs (licences bought)", ("/subscribedSkus",)),
    GraphProbe("User.Read.All", "users and their licences", ("/users?$top=1&$select=id",)),
    GraphProbe("GroupMember.Read.All", "licensing and training groups (or Group.Read.All)",
               ("/groups?$top=1&$select=id",)),
    GraphProbe("AuditLogsQuery.Read.All", "the Purview audit log (Copilot interactions)",
               ("/security/auditLog/queries?$top=1",)),
    GraphProbe("Reports.Read.All", "the Copilot usage report",
               ("/copilot/reports/getMicrosoft365CopilotUserCountSummary(period='D7')",
                "/copilot/reports/getMicrosoft365CopilotUsageUserDetail(period='D7')")),
    GraphProbe("SensitivityLabels.Read.All", "the sensitivity label catalogue",
               ("/security/dataSecurityAndGovernance/sensitivityLabels?$top=1",)),
)


def diagnose(config: RunConfig, *, credential: Any = None, now: datetime | None = None) -> list[Probe]:
    probes = [Probe("configuration", OK, f"{config.source} is valid")]
    try:
        if credential is None:
            from m365audit.collect.auth import make_credential

            credential = make_credential(config.auth)
        token = _token(credential, config)
    except M365AuditError as exc:
        probes.append(Probe("credential", MISSING, exc.message, "Check the --auth mode and its environment "
                                                                "variables (docs/operations.md)."))
        return probes + _database(config, now)
    probes.append(Probe("credential", OK, f"got a token ({config.auth})"))
    probes += asyncio.run(_graph(config, credential, _roles(token)))
    return probes + _database(config, now)


def _token(credential: Any, config: RunConfig) -> str:
    from m365audit.collect.graph import parse_graph_url

    target = parse_graph_url(config.graph_url)
    try:
        return str(credential.get_token(target.scope).token)
    except M365AuditError:
        raise
    except Exception as exc:  # azure-identity raises its own types
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise CollectionError(f"Could not get an access token: {text}") from None


def _roles(token: str) -> set[str] | None:
    """Application permissions listed in the token (a JWT's roles claim), when readable."""
    try:
        payload = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, orjson.JSONDecodeError):
        return None
    roles = claims.get("roles") if isinstance(claims, dict) else None
    return {str(r) for r in roles} if isinstance(roles, list) else None


async def _graph(config: RunConfig, credential: Any, roles: set[str] | None) -> list[Probe]:
    from m365audit.collect.graph import GraphClient, RetryPolicy, parse_graph_url

    policy = RetryPolicy(max_attempts=2, base_delay=0.2, max_throttled=3, budget_seconds=120)
    async with GraphClient(credential, parse_graph_url(config.graph_url), policy=policy) as client:
        probes = [await _permission(client, probe) for probe in (*PROBES, *_scope_probes(config))]
        if any(p.status == MISSING and "refused the token" in p.detail for p in probes):
            return probes
        probes.append(await _report_names(client))
        if config.email is not None:
            probes.append(await _mailbox(client, config.email.sender, roles))
    return probes


async def _permission(client: Any, probe: GraphProbe) -> Probe:
    from m365audit.collect.graph import GraphResponseError

    last: GraphResponseError | None = None
    for path in probe.paths:
        try:
            await client.request("GET", path)
            return Probe(probe.permission, OK, f"can read {probe.purpose}")
        except GraphResponseError as exc:
            last = exc
            if exc.status not in (400, 404):
                break
        except CollectionError as exc:
            return Probe(probe.permission, MISSING, exc.message, "Check the Graph URL and the network.")
    assert last is not None
    return _verdict(probe, last)


def _scope_probes(config: RunConfig) -> tuple[GraphProbe, ...]:
    """An administrative-unit scope also needs to read the unit's members."""
    from urllib.parse import quote

    scope = config.scope or ""
    if not scope.startswith("au:"):
        return ()
    unit = quote(scope.removeprefix("au:").strip(), safe="")
    return (GraphProbe("AdministrativeUnit.Read.All", "the administrative unit's members",
                       (f"/directory/administrativeUnits/{unit}/members?$top=1&$select=id",)),)


def _verdict(probe: GraphProbe, error: Any) -> Probe:
    if error.status == 403:
        return Probe(probe.permission, MISSING, f"not granted: cannot read {probe.purpose}",
                     grant_instructions(probe.permission))
    if error.status == 401:
        return Probe(probe.permission, MISSING, "Graph refused the token",
                     "Check that the credential belongs to this tenant and has not expired.")
    if error.status in (400, 404):
        return Probe(probe.permission, WARNING, f"could not verify: this Graph endpoint answered {error.status} "
                                               f"for {probe.purpose}", "Check the Graph URL and API version.")
    return Probe(probe.permission, WARNING, f"could not verify: {error.message}")


async def _report_names(client: Any) -> Probe:
    from m365audit.collect.graph import GraphResponseError

    name = "report names"
    try:
        data = orjson.loads((await client.request("GET", "/admin/reportSettings")).content)
    except GraphResponseError as exc:
        if exc.status == 403:
            return Probe(name, WARNING, "cannot read the report privacy setting",
                         grant_instructions("ReportSettings.Read.All"))
        return Probe(name, WARNING, f"cannot read the report privacy setting ({exc.status})")
    if data.get("displayConcealedNames"):
        return Probe(name, WARNING, "usage reports conceal user names, so they cannot be matched to users",
                     "In the Microsoft 365 admin centre open Settings > Org settings > Reports and clear "
                     "\"Display concealed user, group, and site names in all reports\" (a Reports admin can).")
    return Probe(name, OK, "usage reports show user names")


async def _mailbox(client: Any, sender: str, roles: set[str] | None) -> Probe:
    from urllib.parse import quote

    from m365audit.collect.graph import GraphResponseError

    name = "Mail.Send"
    if roles is not None and "Mail.Send" not in roles:
        return Probe(name, MISSING, "the token does not carry Mail.Send: the report cannot be emailed",
                     grant_instructions("Mail.Send"))
    try:
        await client.request("GET", f"/users/{quote(sender, safe='@')}?$select=id")
    except GraphResponseError as exc:
        if exc.status == 404:
            return Probe(name, MISSING, f"the service mailbox {sender} does not exist in this tenant",
                         "Create a shared mailbox for the job, or correct [email] from.")
        return Probe(name, WARNING, f"cannot look up the service mailbox {sender} ({exc.status})")
    granted = "the token carries Mail.Send" if roles else "Mail.Send cannot be checked without sending"
    return Probe(name, OK if roles else WARNING, f"the mailbox {sender} exists; {granted}",
                 None if roles else "Check it is granted, and limited to this mailbox by an application "
                                    "access policy (docs/operations.md).")


def _database(config: RunConfig, now: datetime | None) -> list[Probe]:
    from m365audit.ops.doctor_db import database_probes

    return database_probes(config, now)


def render(probes: list[Probe]) -> str:
    lines = []
    width = max(len(p.name) for p in probes)
    for p in probes:
        lines.append(f"{p.status.upper():<8} {p.name:<{width}}  {p.detail}")
        if p.fix and p.status != OK:
            lines.append(f"{'':<8} {'':<{width}}  -> {p.fix}")
    missing = sum(p.status == MISSING for p in probes)
    warnings = sum(p.status == WARNING for p in probes)
    lines.append(f"{missing} missing, {plural(warnings, 'warning')}.")
    return "\n".join(lines)


def stale(when: datetime | None, now: datetime, days: int = 3) -> bool:
    return when is None or when < now - timedelta(days=days)
