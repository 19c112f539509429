"""The usage source of ``m365audit collect``: the Copilot usage report, per user and app.

``/copilot/reports/getMicrosoft365CopilotUsageUserDetail(period='D30')`` answers a
CSV stream (v1.0, after a byte-order mark) or JSON pages (beta); the old
``/beta/reports/...`` path answers 302 to a pre-signed download URL, fetched
with a plain HTTP client because it must not receive the Authorization header
(the SDK's redirect handler would forward it on the same host). The report
privacy setting (``/admin/reportSettings``) is read first, so concealed names
are recognised and reported.

``CollectOptions.extra``: ``usage_period`` (D7, D30, D90, D180 or ALL; default
D30) and ``usage_version`` (v1.0, beta or legacy; v1.0 falls back to beta
when the path is unknown there).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from m365audit.collect.graph import GraphClient, GraphResponseError
from m365audit.errors import CollectionError, UsageError
from m365audit.store import usage as store

if TYPE_CHECKING:
    import duckdb

    from m365audit.collect.runner import CollectOptions
    from m365audit.collect.spool import SpoolFolder

log = logging.getLogger("m365audit.collect")

PERIODS = ("D7", "D30", "D90", "D180", "ALL")
VERSIONS = ("v1.0", "beta", "legacy")
_REPORT = "getMicrosoft365CopilotUsageUserDetail(period='{period}')"


@dataclass(frozen=True)
class UsageReport:
    path: Path
    kind: str  # csv or json
    source: str  # graph-v1.0, graph-beta or graph-legacy


def usage_settings(extra: dict[str, Any]) -> tuple[str, str]:
    period = str(extra.get("usage_period", "D30")).upper()
    version = str(extra.get("usage_version", "v1.0")).lower()
    if period not in PERIODS:
        raise UsageError(f"usage_period {period!r} must be one of {', '.join(PERIODS)}.")
    if version not in VERSIONS:
        raise UsageError(f"usage_version {version!r} must be one of {', '.join(VERSIONS)}.")
    return period, version


async def step(client: GraphClient, options: CollectOptions, folder: SpoolFolder,
               progress: Any) -> Callable[[duckdb.DuckDBPyConnection, str], dict[str, Any]]:
    period, version = usage_settings(options.extra)
    concealed, settings_notice = await report_names_concealed(client)
    report = await fetch_report(client, period, version, folder.path)

    def load(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
        if report.kind == "csv":
            store.stage_csv(con, report.path)
        else:
            store.stage_json(con, report.path)
        counts = store.land(con, run_id=run_id, source=report.source, concealed_setting=concealed)
        notices = counts.notices() + ([settings_notice] if settings_notice else [])
        result: dict[str, Any] = {"rows": counts.rows, "names_concealed": counts.concealed,
                                  "source": report.source, "period": period}
        if notices:
            result["notices"] = notices
        if progress:
            progress("usage report rows", counts.rows)
        return result

    return load


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


async def fetch_report(client: GraphClient, period: str, version: str, folder: Path) -> UsageReport:
    report = _REPORT.format(period=period)
    if version == "legacy":
        return await _fetch_raw(client, f"/reports/{report}", "beta", folder, "graph-legacy")
    if version == "v1.0":
        try:
            return await _fetch_raw(client, f"/copilot/reports/{report}", "v1.0", folder, "graph-v1.0")
        except GraphResponseError as exc:
            if exc.status not in (400, 404):
                raise
            log.info("Copilot usage report not available at v1.0 (%s); using beta", exc.status)
    return await _fetch_json_pages(client, f"/copilot/reports/{report}", folder)


async def _fetch_raw(client: GraphClient, path: str, version: str, folder: Path, source: str) -> UsageReport:
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
        return await _fetch_json_pages(client, path, folder, version=version)
    target = folder / "usage.csv"
    target.write_bytes(body)
    return UsageReport(target, "csv", source)


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


async def _fetch_json_pages(client: GraphClient, path: str, folder: Path, version: str = "beta") -> UsageReport:
    target = folder / "usage.ndjson"
    with target.open("wb") as out:
        async for page in client.iter_pages(path, version=version):
            rows = page.data.get("value")
            if not isinstance(rows, list):
                raise CollectionError("A Copilot usage report page had no value list.")
            out.write(b"".join(orjson.dumps(r) + b"\n" for r in rows if isinstance(r, dict)))
    return UsageReport(target, "json", f"graph-{version}")
