"""The simulated usage report and report settings, as Graph sends them."""

from __future__ import annotations

import csv
import io
import re

import httpx

from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator.reports_model import V1_HEADER
from tests.conftest import ANCHOR, samples_dir

AUTH = {"Authorization": "Bearer test"}
REPORT = "copilot/reports/getMicrosoft365CopilotUsageUserDetail(period='D30')"


def test_v1_csv_has_bom_and_the_documented_header(make_server) -> None:
    server = make_server(Tenant(TenantConfig(users=500, seed=4, anchor=ANCHOR)))
    body = httpx.get(f"{server.url}/{REPORT}", headers=AUTH).content
    assert body.startswith(b"\xef\xbb\xbf")
    documented = (samples_dir() / "microsoft-docs" / "copilot-reports.usage-user-detail.v1.0.example.csv")
    assert body[3:].decode().splitlines()[0] == documented.read_text(encoding="utf-8-sig").splitlines()[0]
    assert V1_HEADER == documented.read_text(encoding="utf-8-sig").splitlines()[0]
    rows = list(csv.DictReader(io.StringIO(body[3:].decode())))
    seat_holders = [u for u in server.tenant.iter_users() if u.holds_copilot_seat()]
    assert sorted(r["User Principal Name"] for r in rows) == sorted(u.user_principal_name for u in seat_holders)
    assert {r["Report Period"] for r in rows} == {"30"}


def test_beta_json_pages_and_legacy_redirect_without_auth(make_server) -> None:
    server = make_server(Tenant(TenantConfig(users=3000, seed=4, anchor=ANCHOR)))
    beta = f"{server.base_url}/beta/{REPORT}"
    with httpx.Client(headers=AUTH) as http:
        rows, url = [], beta
        while url:
            page = http.get(url).json()
            rows += page["value"]
            url = page.get("@odata.nextLink")
        assert len(rows) > 200 and rows[0]["copilotActivityUserDetailsByPeriod"] == [{"reportPeriod": 30}]
        legacy = http.get(f"{server.base_url}/beta/reports/getMicrosoft365CopilotUsageUserDetail(period='D7')")
        assert legacy.status_code == 302
        location = legacy.headers["Location"]
        assert http.get(location).status_code == 400  # a pre-signed URL refuses the bearer token
    download = httpx.get(location)
    assert download.status_code == 200
    assert download.content.startswith(b"\xef\xbb\xbfReport Refresh Date,Report Period,")
    assert len(download.content.decode().splitlines()) == len(rows) + 1
    assert httpx.get(location.replace("/downloads/", "/downloads/x")).status_code == 403


def test_concealed_names_are_32_hex(make_server) -> None:
    server = make_server(Tenant(TenantConfig(users=500, seed=4, anchor=ANCHOR)))
    with httpx.Client(headers=AUTH) as http:
        assert http.get(f"{server.url}/admin/reportSettings").json()["displayConcealedNames"] is False
        assert http.patch(f"{server.url}/admin/reportSettings", json={"displayConcealedNames": True}).status_code == 204
        assert http.get(f"{server.url}/admin/reportSettings").json()["displayConcealedNames"] is True
        rows = list(csv.DictReader(io.StringIO(http.get(f"{server.url}/{REPORT}").content.decode("utf-8-sig"))))
    assert rows and all(re.fullmatch(r"[0-9A-F]{32}", r["User Principal Name"]) for r in rows)
    assert all(re.fullmatch(r"[0-9A-F]{32}", r["Display Name"]) for r in rows)
