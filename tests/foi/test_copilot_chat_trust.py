"""An NHS trust in a shared tenant, with Copilot Chat for everyone and three Microsoft 365 Copilot seats.

The FOI request that started the project (../shared/seeds/000_*.txt) came to such a trust: "Copilot Chat
... available Trust wide however only a very small number of licenses". Copilot Chat needs no licence, so
the people who may use it are the trust's enabled member accounts, whatever base licence they hold; the paid
seats are counted apart. Collected through the real collector, scoped to the trust's domain, answered by
the CLI.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from m365audit.collect.audit_settings import AuditSettings
from m365audit.simulator import SimulatorServer, Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from tests.conftest import ANCHOR, collect_from, run_cli

DOMAIN = "eastfield.nhs.uk"
TRUST = cat.Organisation("Eastfield Community NHS Trust", DOMAIN, 0.3,
                         tuple(cat.Department(d.name, d.weight, 0.01) for d in cat.NHS_DEPARTMENTS))


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    tenant = Tenant(TenantConfig(users=1000, seed=4, days=35, anchor=ANCHOR, organisations=(TRUST,)))
    db = tmp_path_factory.mktemp("trust") / "trust.duckdb"
    with SimulatorServer(tenant) as server:
        collect_from(server, db, scope=f"domain:{DOMAIN}", only=("licences", "audit"), now=ANCHOR,
                     since=ANCHOR - timedelta(days=30), until=ANCHOR,
                     audit=AuditSettings(poll_initial=0.01, poll_max=0.05))
    return tenant, db


def _truth(tenant: Tenant) -> dict[str, int]:
    staff = [u for u in tenant.iter_users() if u.user_principal_name.endswith("@" + DOMAIN)]
    seats = {u.user_principal_name.lower() for u in staff if u.holds_copilot_seat()}
    model = tenant.activity
    start = ANCHOR - timedelta(days=27)
    used = {r["UserId"].lower() for r in model.records(start, ANCHOR + timedelta(days=1), ["CopilotInteraction"])}
    return {
        "staff": len(staff),
        "seats": len(seats),
        "may_use_chat": sum(1 for u in staff if u.account_enabled and u.user_type == "Member"),
        "seat_active": len(seats & used),
        "chat_active": len({u.user_principal_name.lower() for u in staff} - seats & used),
        "with_chat_plan": sum(1 for u in staff if any(
            a.sku_id in (cat.E3.sku_id, cat.E5.sku_id, cat.F3.sku_id) for a in u.assignments)),
    }


def test_the_trust_is_what_the_test_says(trust) -> None:
    tenant, _ = trust
    truth = _truth(tenant)
    assert (truth["staff"], truth["seats"], truth["may_use_chat"]) == (303, 3, 294)
    # The old rule (the retired Bing_Chat_Enterprise plan in a base licence) would count someone else.
    assert truth["with_chat_plan"] != truth["may_use_chat"]


def test_foi_answer_counts_copilot_chat_without_a_licence(trust, tmp_path) -> None:
    tenant, db = trust
    truth = _truth(tenant)
    policy = tmp_path / "exact.toml"
    policy.write_text("[foi]\nsuppress_below = 1\n", encoding="utf-8")
    result = run_cli("foi", "--db", str(db), "--format", "json", "--policy", str(policy))
    assert result.code == 0, result.stderr
    systems = {s["name"]: s for s in json.loads(result.stdout)["systems"]}
    copilot = systems["Microsoft 365 Copilot"]
    chat = systems["Microsoft 365 Copilot Chat"]
    assert (copilot["entitled_users"], copilot["licensed_users"], copilot["active_users"]) == (
        3, 3, truth["seat_active"])
    assert (chat["entitled_users"], chat["licensed_users"], chat["active_users"]) == (294, None, truth["chat_active"])
    assert chat["active_users"] > 0
    assert "it is not a licence" in chat["purpose"]


def test_published_answer_withholds_the_three_seats_but_not_copilot_chat(trust) -> None:
    _, db = trust
    result = run_cli("foi", "--db", str(db), "--format", "json")
    assert result.code == 0, result.stderr
    answer = json.loads(result.stdout)
    systems = {s["name"]: s for s in answer["systems"]}
    assert systems["Microsoft 365 Copilot"]["licensed_users"] == "<5"
    assert systems["Microsoft 365 Copilot Chat"]["entitled_users"] == 294
    assert "enabled staff accounts" in answer["method"] and "Bing_Chat_Enterprise" not in answer["method"]
    assert "Bing_Chat_Enterprise" in " ".join(answer["officer_note"])  # named to the officer, not the requester
    text = run_cli("foi", "--db", str(db), "--format", "md").stdout
    assert "| Microsoft 365 Copilot Chat |" in text and "| 294 |" in text
    assert "not applicable (no licence needed)" in text


def test_nothing_counts_the_retired_plan() -> None:
    """Who may use Copilot Chat is defined once (queries/views/036_copilot_chat.sql); no code reads the retired
    Bing_Chat_Enterprise plan as an entitlement. The simulator's catalogue lists it, as real SKUs do."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    allowed = {"m365audit/store/migrations/001_core.sql", "m365audit/store/migrations/031_copilot_chat_not_a_licence.sql",
               "queries/views/010_licences.sql", "m365audit/simulator/catalogue.py"}
    readers = [str(f.relative_to(root)) for pattern in ("m365audit/**/*.py", "m365audit/**/*.sql", "queries/**/*.sql")
               for f in root.glob(pattern)
               if any(s in f.read_text(encoding="utf-8") for s in ("0d0c0d31", "retired_copilot_chat", "'copilot_chat'"))]
    assert sorted(set(readers) - allowed) == []
