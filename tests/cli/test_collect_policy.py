"""`collect --policy FILE` collects the members of every group the policy names, so the checks that need them run."""

from __future__ import annotations

from m365audit.resources import resource_dir
from m365audit.store.db import open_db
from tests.conftest import run_cli

POLICY = resource_dir("examples") / "policies" / "borough-council.toml"


def test_collect_with_the_policy_collects_its_groups_and_the_training_check_runs(make_server, tmp_path) -> None:
    server = make_server(users=60)
    db = tmp_path / "t.duckdb"
    result = run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token", "--only", "licences",
                     "--policy", str(POLICY), env={"M365AUDIT_TOKEN": "t"})
    assert result.code == 0, result.stderr
    with open_db(db, read_only=True) as con:
        named = {r[0] for r in con.execute("SELECT DISTINCT group_name FROM group_members").fetchall()}
    assert {"Copilot Licensed Staff", "AI Trained Staff"} <= named
    check = run_cli("check", "--db", str(db), "--policy", str(POLICY), "--format", "csv")
    statuses = {line.split(",")[1]: line.split(",")[4] for line in check.stdout.splitlines()[1:]}
    assert statuses["usage_copilot_users_trained"] != "not_checked"
    without = tmp_path / "without.duckdb"
    assert run_cli("collect", "--db", str(without), "--graph-url", server.url, "--auth", "token", "--only",
                   "licences", env={"M365AUDIT_TOKEN": "t"}).code == 0
    check = run_cli("check", "--db", str(without), "--policy", str(POLICY), "--format", "csv")
    statuses = {line.split(",")[1]: line.split(",")[4] for line in check.stdout.splitlines()[1:]}
    assert statuses["usage_copilot_users_trained"] == "not_checked"
