"""`m365audit demo` then `m365audit check --policy examples/policies/<any>.toml` lists the planted violations
and nothing else."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from m365audit.checks.catalogue import check_ids
from m365audit.policy import load_policy
from m365audit.simulator import activity_catalogue as ac
from m365audit.simulator.planted import PLANTS, demo_tenant, planted_findings
from tests.conftest import run_cli
from tests.simulator.conftest import DAYS, SEED, USERS, DemoRun

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "policies").glob("*.toml"))
# Checks that need only the licence snapshot and the policy file: they must run on the demo.
LICENCE_SIDE = {"licence_copilot_only_active_accounts", "licence_copilot_only_members",
                "licence_copilot_assigned_by_group", "licence_assignment_no_errors",
                "licence_copilot_no_unassigned_seats", "usage_copilot_users_trained", "policy_reviewed_within_cycle"}


@pytest.fixture(scope="module")
def demo_db(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo database (`m365audit demo` in tests/simulator/conftest.py): these tests store check runs."""
    db = tmp_path_factory.mktemp("planted") / "demo.duckdb"
    shutil.copy(demo_run.db, db)
    return db


def test_there_are_four_example_policies_of_different_kinds() -> None:
    assert [p.name for p in EXAMPLES] == ["academy-trust-prohibited-uses.toml", "academy-trust-risk-based.toml",
                                          "borough-council.toml", "nhs-trust-copilot-chat.toml"]


@pytest.mark.parametrize("policy_file", EXAMPLES, ids=lambda p: p.stem)
def test_demo_lists_the_planted_violations_and_nothing_else(demo_db: Path, policy_file: Path) -> None:
    result = run_cli("check", "--db", str(demo_db), "--policy", str(policy_file), "--format", "json")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    with duckdb.connect(str(demo_db), read_only=True) as con:
        activity = con.execute("SELECT count(*) > 0 FROM copilot_interactions").fetchone() == (True,)
    expected = planted_findings(demo_tenant(USERS, DAYS, SEED), load_policy(policy_file, check_ids()),
                                datetime.now(UTC).date(), activity_collected=activity)
    assert {(f["check_id"], f["subject"]) for f in out["findings"]} == expected
    statuses = {c["check_id"]: c["status"] for c in out["checks"]}
    assert all(statuses[c] != "not_checked" for c in LICENCE_SIDE), statuses


def test_every_plant_tells_its_story_once() -> None:
    assert sorted(p.index for p in PLANTS) == list(range(len(PLANTS)))
    assert all(p.story for p in PLANTS)
    assert sum(1 for p in PLANTS if p.near_miss) == 7  # near misses


def test_agents_lists_every_kind_with_the_planted_agents_and_verdicts(demo_db: Path) -> None:
    """`m365audit agents` over the demo collected by the real collector: the planted agents, a Copilot Studio
    agent only a program runs (listed, nobody uses it: Retire), and the restricted read found with the policy."""
    policy = str(EXAMPLES[2])  # borough-council.toml
    result = run_cli("agents", "--db", str(demo_db), "--policy", policy, "--format", "json")
    assert result.code == 0, result.stderr
    agents = {a["agent_name"]: a for a in json.loads(result.stdout)["agents"]}
    fraud, family = ac.PLANTED_AGENTS["agent_unapproved"], ac.PLANTED_AGENTS["agent_prohibited_site"]
    assert {k: agents[fraud[1]][k] for k in ("agent_id", "kind", "users_30d", "interactions_30d", "verdict")} == {
        "agent_id": fraud[0], "kind": "declarative", "users_30d": 1, "interactions_30d": 1, "verdict": "Keep"}
    assert (agents[family[1]]["kind"], agents[family[1]]["users_30d"]) == ("declarative", 1)
    helper = agents["HR Policy Helper"]
    assert helper["restricted_resources_read"] == 1 and helper["verdict"] == "Review"
    assert helper["rule"] == "read content with a restricted label: review it"
    program_only = next(p for p in ac.PROGRAMS if p.department is None and p.app == "Copilot Studio agent")
    studio_id = program_only.app_identity.removeprefix("Copilot.Studio.")  # type: ignore[union-attr]
    assert {k: agents[studio_id][k] for k in ("kind", "users_30d", "interactions_30d", "verdict")} == {
        "kind": "copilot studio", "users_30d": 0, "interactions_30d": 0, "verdict": "Retire"}
    assert {a["kind"] for a in agents.values()} == {"microsoft", "declarative", "copilot studio"}
    assert {n for n, a in agents.items() if a["kind"] == "microsoft"} <= set(ac.MICROSOFT_AGENTS)
    assert all(a["restricted_resources_read"] == 0 for n, a in agents.items() if n != "HR Policy Helper")
    # Without a policy nothing is called restricted; CSV carries the same rows; a date long before: no agents.
    bare = json.loads(run_cli("agents", "--db", str(demo_db), "--format", "json").stdout)["agents"]
    assert {a["agent_name"] for a in bare} == set(agents) and all(a["restricted_resources_read"] is None
                                                                   for a in bare)
    rows = list(csv.DictReader(io.StringIO(run_cli("agents", "--db", str(demo_db), "--policy", policy,
                                                   "--format", "csv").stdout)))
    assert {r["agent_name"]: r["verdict"] for r in rows} == {n: a["verdict"] for n, a in agents.items()}
    early = run_cli("agents", "--db", str(demo_db), "--as-of", "2000-01-01", "--format", "json")
    assert json.loads(early.stdout)["agents"] == []


def test_agents_refuses_bad_input_cleanly(demo_db: Path) -> None:
    for args in (("--format", "xml"), ("--as-of", "yesterday")):
        result = run_cli("agents", "--db", str(demo_db), *args)
        assert result.code == 2 and "Traceback" not in result.stderr and result.stdout == "", result.stderr


def test_report_ranks_copilot_chat_users_for_the_next_seat_and_says_what_decided_each_reclaim(
        demo_db: Path, tmp_path: Path) -> None:
    """The demo collected by the real collector: the reassign list holds only people without a seat, ranked by
    their Copilot Chat days and prompts as the audit log shows them, with the policy's training applied; the
    reclaim list names the signal that decided each row (the demo serves usage report v2)."""
    result = run_cli("report", "--db", str(demo_db), "--policy", str(EXAMPLES[2]), "--format", "csv",
                     "--out", str(tmp_path / "out"))
    assert result.code == 0, result.stderr
    tenant = demo_tenant(USERS, DAYS, SEED)
    upn = {p.index: tenant.user(p.index).user_principal_name for p in PLANTS}  # type: ignore[union-attr]
    with (tmp_path / "out" / "csv" / "reassign.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    with duckdb.connect(str(demo_db), read_only=True) as con:
        seat_holders = {r[0] for r in con.execute("SELECT user_principal_name FROM copilot_seat_holders").fetchall()}
        as_of = con.execute("SELECT max(taken_at) FROM snapshots").fetchone()[0]  # type: ignore[index]
        audit = {r[0]: (r[1], r[2]) for r in con.execute(
            "SELECT lower(user_principal_name), count(DISTINCT created_at::DATE), "
            "sum((SELECT greatest(count(*) FILTER (WHERE m.is_prompt), 1) FROM copilot_messages m "
            "     WHERE m.record_id = u.record_id)) FROM copilot_use u "
            "WHERE created_at > ?::TIMESTAMPTZ - INTERVAL 30 DAY AND created_at <= ? GROUP BY 1",
            [as_of, as_of]).fetchall()}
    by_upn = {r["user_principal_name"]: r for r in rows}
    assert rows and not set(by_upn) & seat_holders
    untrained, trained = by_upn[upn[15]], by_upn[upn[18]]
    assert (untrained["training"], untrained["action"]) == ("not trained", "train first")
    assert (trained["training"], trained["action"]) == ("trained", "reassign a seat")
    assert all((int(r["days_active"]), int(r["prompts"])) == audit[r["user_principal_name"].lower()]
               and r["signal"] == "audit log" for r in rows)
    keys = [(-int(r["days_active"]), -int(r["prompts"]), r["last_used"]) for r in rows]
    assert [k[:2] for k in keys] == sorted(k[:2] for k in keys) and rows[0]["rank"] == "1"
    with (tmp_path / "out" / "csv" / "reclaim.csv").open(encoding="utf-8-sig") as handle:
        reclaim = {r["user_principal_name"]: r["decided_by"] for r in csv.DictReader(handle)}
    assert reclaim[upn[0]] == "account disabled"
    assert reclaim[upn[5]].startswith("usage report v2: 0 active day(s), 0 prompt(s) in the ")


def test_a_muted_planted_finding_is_muted_with_reason_and_end_in_check_csv_workbook_and_html(
        demo_run: DemoRun, tmp_path: Path) -> None:
    """A policy exception mutes the seat holder who skipped the training (plant 4): `check --format csv`, the
    manager workbook (opened with openpyxl) and the HTML report all show the finding as muted, with the
    exception's reason and end date."""
    import html as html_text
    import re

    import openpyxl

    from m365audit.checks.catalogue import load_catalogue
    from m365audit.simulator.planted import TRAINED

    subject = demo_tenant(USERS, DAYS, SEED).user(4).user_principal_name  # type: ignore[union-attr]
    reason = "Booked on the next AI training course"
    policy = tmp_path / "muted.toml"
    policy.write_text(EXAMPLES[2].read_text(encoding="utf-8") + f"""
[[exceptions]]
check = "{TRAINED}"
subject = "{subject}"
reason = "{reason}"
until = 2099-03-31
""", encoding="utf-8")
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_run.db, db)  # with `demo --out`'s two check runs: last month's and today's
    checked = run_cli("check", "--db", str(db), "--policy", str(policy), "--format", "csv")
    assert checked.code == 0, checked.stderr
    rows = [r for r in csv.DictReader(io.StringIO(checked.stdout))
            if r["check_id"] == TRAINED and r["subject"] == subject]
    assert [(r["subject"], r["status"], r["excepted"], r["exception_reason"], r["exception_until"], r["change"])
            for r in rows] == [(subject, "fail", "true", reason, "2099-03-31", "open")]
    detail = rows[0]["detail"]

    out = tmp_path / "out"
    result = run_cli("report", "--db", str(db), "--policy", str(policy), "--format", "xlsx,html", "--out", str(out))
    assert result.code == 0, result.stderr
    info = next(c for c in load_catalogue() if c.id == TRAINED)
    # Reported since last month's check run, on the first of this month (before today's run: the last month's).
    since = datetime.combine(demo_run.today.replace(day=1) if demo_run.today.day > 1
                             else (demo_run.today - timedelta(days=1)).replace(day=1), datetime.min.time())
    book = openpyxl.load_workbook(out / "copilot-report.xlsx")
    try:
        sheet = book["compliance_findings"]
        header = [c.value for c in sheet[1]]
        assert header == ["Check id", "Check", "Severity", "State", "Since the previous run", "Who or what",
                          "Evidence", "Since", "Muted because", "Muted until"]
        muted = [[c.value for c in row] for row in sheet.iter_rows(min_row=2) if row[3].value == "muted"]
        assert muted == [[TRAINED, info.title, info.severity, "muted", "open", subject, detail, since, reason,
                          datetime(2099, 3, 31)]]
        row = next(r for r in sheet.iter_rows(min_row=2) if r[3].value == "muted")
        assert (row[7].number_format, row[9].number_format) == ("yyyy-mm-dd", "yyyy-mm-dd")
    finally:
        book.close()
    page = (out / "copilot-report.html").read_text(encoding="utf-8")
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S) for tr in re.findall(r"<tr>(.*?)</tr>", page, re.S)]
    found = [[html_text.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in tr] for tr in cells
             if any(html_text.escape(subject) in c for c in tr) and any(reason in c for c in tr)]
    assert found == [["open", subject, detail, f"{since:%Y-%m-%d}", reason, "2099-03-31"]]
    group = page[page.index('id="findings-'):]
    group = group[group.index(f"<h3>{html_text.escape(info.title)}"):]
    heads = [html_text.unescape(re.sub(r"<[^>]+>", "", h)).strip()
             for h in re.findall(r"<th[^>]*>(.*?)</th>", group[:group.index("</thead>")], re.S)]
    assert heads[-2:] == ["Muted because", "Muted until"], heads
    assert "1 muted" in group[:group.index("</p>")]
