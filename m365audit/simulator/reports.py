"""Copilot usage reports and the report privacy setting.

- v1.0 ``/copilot/reports/getMicrosoft365CopilotUsageUserDetail(period='D30')``:
  a CSV stream starting with a UTF-8 byte-order mark; with ``version='v2'``
  (periods D7, D28, D90, D180, ALL) the version 2 columns follow the v1 ones;
- ``getMicrosoft365CopilotUserCountSummary`` and ``...UserCountTrend``: the same,
  enabled and active users per app (simulator/reports_counts.py);
- a tenant configured without version 2 (``ApiBehaviour.usage_report_v2``)
  answers a request carrying ``version`` as Graph answers a function it does not
  know: 400 BadRequest "Resource not found for the segment '<function>'.";
- beta, same paths: JSON (v1 keys: Microsoft documents no JSON keys for version 2);
- legacy ``/beta/reports/...``: 302 to a short-lived download URL on this
  server that refuses requests carrying an Authorization header, as Graph's
  pre-signed report URLs do;
- ``/admin/reportSettings``: ``displayConcealedNames`` (GET and PATCH); when
  true, names and UPNs in the reports are 32-hex hashes.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import weakref
from typing import Any

from m365audit.simulator import reports_counts as rc
from m365audit.simulator import reports_model as rm
from m365audit.simulator.http import (
    GraphHttpError,
    Request,
    Response,
    Router,
    decode_token,
    encode_token,
    next_link,
)
from m365audit.simulator.tenant import Tenant

_Q = "(?:'|%27)"
_ARGS = rf"\(period={_Q}(\w+){_Q}(?:(?:,|%2C)\s*version={_Q}(\w+){_Q})?\)"
_USER_DETAIL = rf"getMicrosoft365CopilotUsageUserDetail{_ARGS}"
_COUNTS = rf"getMicrosoft365CopilotUserCount(Summary|Trend){_ARGS}"
_BOM = b"\xef\xbb\xbf"
_JSON_PAGE = 200


class ReportService:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.conceal_names = tenant.config.api.conceal_report_names
        self.downloads: dict[str, tuple[float, str]] = {}  # token -> (expires, period)
        self._lock = threading.Lock()

    # ----- report rows --------------------------------------------------------------
    def _version(self, function: str, version: str | None) -> str:
        if version is None:
            return "v1"
        if not self.tenant.config.api.usage_report_v2:
            raise GraphHttpError(400, "BadRequest", f"Resource not found for the segment '{function}'.")
        if version not in ("v1", "v2"):
            raise GraphHttpError(400, "BadRequest", f"Invalid version '{version}'; use v1 or v2.")
        return version

    def _period(self, period: str, version: str) -> tuple[int | None, int]:
        periods = rm.V2_PERIODS if version == "v2" else rm.PERIODS
        if period not in periods:
            raise GraphHttpError(400, "BadRequest", f"Invalid period '{period}' for report version {version}; "
                                                    f"use {', '.join(periods)}.")
        return rm.period_days(period, self.tenant.activity, version)

    def _rows(self, period: str, version: str = "v1") -> tuple[list[dict[str, Any]], Any, int]:
        days, shown = self._period(period, version)
        model = self.tenant.activity
        refresh = rm.refresh_date(model)
        rows = rm.usage_rows_v2(model, refresh, days) if version == "v2" else rm.usage_rows(model, refresh, days)
        return rows, refresh, shown

    def counts(self, request: Request, match: re.Match[str]) -> Response:
        kind = match.group(1)
        version = self._version(f"getMicrosoft365CopilotUserCount{kind}", match.group(3))
        days, shown = self._period(match.group(2), version)
        model = self.tenant.activity
        refresh = rm.refresh_date(model)
        days = days if days is not None else shown
        json = request.version != "v1.0"
        if kind == "Summary":
            row = rc.summary(model, refresh, days, shown, "v1" if json else version)
            if json:
                return Response.json({"value": [rc.summary_json(row)]})
            text = rc.summary_csv(row, version)
        else:
            rows = rc.trend(model, refresh, days, "v1" if json else version)
            if json:
                return Response.json({"value": [rc.trend_json(rows, refresh, shown)]})
            text = rc.trend_csv(rows, refresh, shown, version)
        return Response(200, _BOM + text.encode(), {"Content-Type": "application/octet-stream"})

    def user_detail(self, request: Request, match: re.Match[str]) -> Response:
        version = self._version("getMicrosoft365CopilotUsageUserDetail", match.group(2))
        rows, refresh, shown = self._rows(match.group(1), version if request.version == "v1.0" else "v1")
        if request.version == "v1.0":
            text = rm.csv_text(rows, refresh, shown, self.conceal_names, legacy=False)
            return Response(200, _BOM + text.encode(), {"Content-Type": "application/octet-stream"})
        token = request.query.get("$skiptoken")
        offset = int(decode_token(token).get("o", 0)) if token else 0
        page = rows[offset:offset + _JSON_PAGE]
        payload: dict[str, Any] = {"value": [rm.json_row(r, refresh, shown, self.conceal_names) for r in page]}
        if offset + _JSON_PAGE < len(rows):
            token = encode_token({"o": offset + _JSON_PAGE})
            payload["@odata.nextLink"] = next_link(request, request.path, {"$skiptoken": token})
        return Response.json(payload)

    def legacy_redirect(self, request: Request, match: re.Match[str]) -> Response:
        period = match.group(1)
        self._rows(period)  # validate before handing out a link
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.downloads[token] = (time.monotonic() + self.tenant.config.api.report_download_ttl, period)
        location = f"{request.base_url}/beta/reports/downloads/{token}?sv=2024-01-01&sig={secrets.token_hex(16)}"
        return Response(302, b"", {"Location": location})

    def download(self, request: Request, match: re.Match[str]) -> Response:
        if "authorization" in request.headers:
            # Pre-signed storage URLs reject a second credential.
            raise GraphHttpError(400, "InvalidAuthenticationInfo",
                                 "Authentication information is not given in the correct format.")
        with self._lock:
            entry = self.downloads.get(match.group(1))
        if entry is None or entry[0] < time.monotonic():
            raise GraphHttpError(403, "AuthenticationFailed", "The download link has expired or is not valid.")
        rows, refresh, shown = self._rows(entry[1])
        text = rm.csv_text(rows, refresh, shown, self.conceal_names, legacy=True)
        return Response(200, _BOM + text.encode(), {"Content-Type": "application/octet-stream"})

    # ----- settings -------------------------------------------------------------------
    def settings(self, request: Request, _m: re.Match[str]) -> Response:
        if request.method == "PATCH":
            body = request.json()
            value = body.get("displayConcealedNames") if isinstance(body, dict) else None
            if not isinstance(value, bool):
                raise GraphHttpError(400, "BadRequest", "displayConcealedNames must be true or false.")
            self.conceal_names = value
            return Response(204)
        return Response.json({"@odata.context": f"{request.root}/$metadata#admin/reportSettings/$entity",
                              "displayConcealedNames": self.conceal_names})


_SERVICES: weakref.WeakKeyDictionary[Tenant, ReportService] = weakref.WeakKeyDictionary()


def service_for(tenant: Tenant) -> ReportService:
    return _SERVICES[tenant]


def register(router: Router, tenant: Tenant) -> None:
    service = _SERVICES.setdefault(tenant, ReportService(tenant))
    router.add("GET", rf"/copilot/reports/{_USER_DETAIL}", service.user_detail)
    router.add("GET", rf"/copilot/reports/{_COUNTS}", service.counts)
    router.add("GET", rf"/reports/{_USER_DETAIL}", service.legacy_redirect, versions=("beta",))
    router.add("GET", r"/reports/downloads/([\w-]+)", service.download, versions=("beta",), anonymous=True)
    router.add("GET", r"/admin/reportSettings", service.settings)
    router.add("PATCH", r"/admin/reportSettings", service.settings)

