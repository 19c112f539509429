"""The usage source of ``m365audit collect``: Microsoft's Copilot usage reports.

``/copilot/reports/getMicrosoft365CopilotUsageUserDetail(period=..., version='v2')``
answers a CSV stream on v1.0 (after a byte-order mark) with version 2's extra
columns: prompt counts, active usage days, Copilot Chat (work) and (web),
Microsoft 365 Copilot, Edge and agent last activity. Version 2 takes the
periods D7, D28, D90, D180 and ALL, version 1 D7, D30, D90, D180 and ALL
(Microsoft 365 Copilot APIs reference, "Function parameters"), so the
configured period is asked for in the version's nearest form (D30 <-> D28).

A tenant that does not serve the ``version`` parameter answers as Graph
answers any function it does not know: 400 "Resource not found for the
segment '...'" (or 404). Only that answer falls back to version 1; any other
400 (a validation error) reaches the user with Graph's own message. Beta
answers JSON pages, whose version 2 keys Microsoft does not document, so beta
is always asked for version 1. The old ``/beta/reports/...`` path answers 302
to a pre-signed download URL, fetched with a plain HTTP client because it must
not receive the Authorization header. The report privacy setting
(``/admin/reportSettings``) is read first, so concealed names are recognised.

The user-count summary and trend reports (enabled and active users per app)
are collected the same way, except in a scoped collection: they are
tenant-wide figures that cannot be limited to one organisation.

``CollectOptions.usage`` (UsageSettings): ``period`` (D7, D28, D30, D90, D180 or
ALL; default D30) and ``version`` (v1.0, beta or legacy; v1.0 falls back to
beta when the path is unknown there).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from m365audit.collect.graph import GraphClient, GraphResponseError
from m365audit.errors import CollectionError, UsageError
from m365audit.store import usage as store
from m365audit.store import usage_counts as counts_store

if TYPE_CHECKING:
    import duckdb

    from m365audit.collect.runner import CollectOptions
    from m365audit.collect.spool import SpoolFolder

log = logging.getLogger("m365audit.collect")

PERIODS = ("D7", "D28", "D30", "D90", "D180", "ALL")
VERSIONS = ("v1.0", "beta", "legacy")
USER_DETAIL = "getMicrosoft365CopilotUsageUserDetail"
COUNT_REPORTS = {"summary": "getMicrosoft365CopilotUserCountSummary", "trend": "getMicrosoft365CopilotUserCountTrend"}
_V2_PERIOD = {"D30": "D28"}  # version 2 has D28 where version 1 has D30
_V1_PERIOD = {"D28": "D30"}


@dataclass(frozen=True)
class UsageReport:
    path: Path
    kind: str  # csv or json
    source: str  # graph-v1.0, graph-beta or graph-legacy
    version: str = "v1"  # the report version asked for: v1 or v2
    period: str = "D30"  # the period asked for
    notices: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class UsageSettings:
    """Which usage report to ask for: ``CollectOptions.usage``."""

    period: str = "D30"  # one of PERIODS
    version: str = "v1.0"  # one of VERSIONS

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"usage period {self.period!r} must be one of {', '.join(PERIODS)}")
        if self.version not in VERSIONS:
            raise ValueError(f"usage version {self.version!r} must be one of {', '.join(VERSIONS)}")


def function_call(name: str, period: str, report_version: str) -> str:
    """``name(period='D28',version='v2')``; version 1 is asked for without the optional parameter."""
    if report_version == "v2":
        return f"{name}(period='{_V2_PERIOD.get(period, period)}',version='v2')"
    return f"{name}(period='{_V1_PERIOD.get(period, period)}')"


def version_not_served(exc: GraphResponseError) -> bool:
    """Graph's answer to a function (or overload) it does not know: 404, or 400 "Resource not found for the segment"."""
    return exc.status == 404 or (exc.status == 400 and "resource not found for the segment" in exc.message.lower())


async def step(client: GraphClient, options: CollectOptions, folder: SpoolFolder,
               progress: Any) -> Callable[[duckdb.DuckDBPyConnection, str], dict[str, Any]]:
    period, version = options.usage.period, options.usage.version
    concealed, settings_notice = await report_names_concealed(client)
    report = await fetch_report(client, period, version, folder.path)
    count_reports: dict[str, UsageReport] = {}
    if options.scope is None:
        for kind in COUNT_REPORTS:
            fetched = await fetch_count_report(client, kind, period, version, folder.path)
            if fetched is not None:
                count_reports[kind] = fetched

    def load(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
        try:
            if report.kind == "csv":
                store.stage_csv(con, report.path, name="the usage report")
            else:
                store.stage_json(con, report.path)
            store.refuse_bad_rows(con, "The usage report Microsoft Graph sent")
        except UsageError as exc:
            raise CollectionError(exc.message.replace("; nothing was imported.", "; nothing of it was stored."))\
                from None
        counts = store.land(con, run_id=run_id, source=report.source, concealed_setting=concealed,
                            version=report.version)
        result: dict[str, Any] = {**counts.as_dict(), "source": report.source, "period": report.period,
                                  "report_version": report.version}
        result.update({f"{kind}_rows": _load_counts(con, run_id, kind, r) for kind, r in count_reports.items()})
        notices = counts.notices() + list(report.notices) + ([settings_notice] if settings_notice else [])
        if options.scope is not None:
            notices.append("The Copilot user-count summary and trend reports were not collected: they count the "
                           "whole tenant, not the scope.")
        if notices:
            result["notices"] = notices
        if progress:
            progress("usage report rows", counts.rows)
        return result

    return load


def _load_counts(con: duckdb.DuckDBPyConnection, run_id: str, kind: str, report: UsageReport) -> int:
    if report.kind == "csv":
        version = counts_store.stage_csv(con, report.path, kind)
    else:
        version = counts_store.stage_json(con, report.path, kind)
    return counts_store.land(con, run_id=run_id, source=report.source, report=kind, version=version)


async def report_names_concealed(client: GraphClient) -> tuple[bool | None, str | None]:
    """The tenant's displayConcealedNames, or None (and a notice) when it cannot be read."""
    try:
        data = await client.get_json("/admin/reportSettings")
    except GraphResponseError as exc:
        if exc.status in (401, 403, 404):
            return None, ("Could not read the report privacy setting (the app needs ReportSettings.Read.All); "
                          "hashed names in the usage report are recognised by their form instead.")
        raise
    value = data.get("displayConcealedNames")
    if value is None and isinstance(data.get("value"), dict):
        value = data["value"].get("displayConcealedNames")  # the shape shown in Microsoft's example
    return (value if isinstance(value, bool) else None), None


async def fetch_report(client: GraphClient, period: str, version: str, folder: Path,
                       name: str = USER_DETAIL, target: str = "usage") -> UsageReport:
    """The report as a spooled file: v2 CSV where served, else v1 CSV, else beta JSON (v1)."""
    if version == "legacy":
        report = await _fetch_raw(client, f"/reports/{function_call(name, period, 'v1')}", "beta", folder,
                                  "graph-legacy", target)
        return _with(report, "v1", period)
    if version == "v1.0":
        notices: tuple[str, ...] = ()
        for report_version in ("v2", "v1"):
            path = f"/copilot/reports/{function_call(name, period, report_version)}"
            try:
                report = await _fetch_raw(client, path, "v1.0", folder, "graph-v1.0", target)
                return _with(report, report_version, period, notices)
            except GraphResponseError as exc:
                if not version_not_served(exc):
                    raise
                log.info("%s %s not served at v1.0 (%s)", name, report_version, exc.status)
                if report_version == "v2":
                    notices = ("This tenant does not serve version 2 of the Copilot usage reports yet, so prompt "
                               "counts and active days are missing; version 1 was collected.",)
    report = await _fetch_json_pages(client, f"/copilot/reports/{function_call(name, period, 'v1')}", folder,
                                     target=target)
    return _with(report, "v1", period)


def _with(report: UsageReport, version: str, period: str, notices: tuple[str, ...] = ()) -> UsageReport:
    shown = _V2_PERIOD.get(period, period) if version == "v2" else _V1_PERIOD.get(period, period)
    return UsageReport(report.path, report.kind, report.source, version, shown, notices)


async def fetch_count_report(client: GraphClient, kind: str, period: str, version: str,
                             folder: Path) -> UsageReport | None:
    """A user-count report, or None when the tenant does not serve it (404 / unknown segment)."""
    try:
        return await fetch_report(client, period, "beta" if version == "beta" else "v1.0", folder,
                                  COUNT_REPORTS[kind], f"count_{kind}")
    except GraphResponseError as exc:
        if version_not_served(exc):
            log.info("Copilot user-count %s report not served (%s)", kind, exc.status)
            return None
        raise


async def _fetch_raw(client: GraphClient, path: str, version: str, folder: Path, source: str,
                     target: str = "usage") -> UsageReport:
    response = await client.request("GET", path, version=version, follow_redirects=False,
                                    ok_statuses=(301, 302, 303, 307), headers={"Accept": "*/*"})
    body = response.content
    if response.status_code in (301, 302, 303, 307):
        location = response.headers.get("Location")
        if not location:
            raise CollectionError(f"Microsoft Graph redirected {path} without a download address.")
        body = await download_without_auth(location)
    stripped = body.lstrip(b"\xef\xbb\xbf \r\n\t")
    if stripped.startswith(b"{"):
        # Some tenants answer JSON on this path too: one page, or the first of several.
        return await _fetch_json_pages(client, path, folder, version=version, target=target)
    spooled = folder / f"{target}.csv"
    spooled.write_bytes(body)
    return UsageReport(spooled, "csv", source)


async def download_without_auth(url: str) -> bytes:
    """GET a pre-signed report URL with a bare client: no Authorization header, ever."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=15.0), follow_redirects=True) as http:
        for attempt in range(3):
            try:
                response = await http.get(url)
            except httpx.TransportError:
                if attempt == 2:
                    raise CollectionError("Could not download the Copilot usage report from its "
                                          "download address.") from None
                continue
            if response.status_code == 200:
                return response.content
            raise CollectionError(f"The Copilot usage report download answered {response.status_code}; "
                                  "the link may have expired, so collect again.")
    raise AssertionError("unreachable")


async def _fetch_json_pages(client: GraphClient, path: str, folder: Path, version: str = "beta",
                            target: str = "usage") -> UsageReport:
    spooled = folder / f"{target}.ndjson"
    with spooled.open("wb") as out:
        async for page in client.iter_pages(path, version=version):
            rows = page.data.get("value")
            if not isinstance(rows, list):
                raise CollectionError("A Copilot usage report page had no value list.")
            out.write(b"".join(orjson.dumps(r) + b"\n" for r in rows if isinstance(r, dict)))
    return UsageReport(spooled, "json", f"graph-{version}")
