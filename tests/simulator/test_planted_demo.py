"""`m365audit demo` then `m365audit check --policy examples/policies/<any>.toml` lists the planted violations
and nothing else."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from m365audit.demo import run_demo
from m365audit.policy import load_policy
from m365audit.simulator.planted import PLANTS, demo_tenant, planted_findings
from tests.conftest import run_cli

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "policies").glob("*.toml"))
USERS, DAYS, SEED = 150, 30, 1
# Checks that need only the licence snapshot and the policy file: they must run on the demo.
LICENCE_SIDE = {"licence_copilot_only_active_accounts", "licence_copilot_only_members",
                "licence_copilot_assigned_by_group", "licence_assignment_no_errors",
                "licence_copilot_no_unassigned_seats", "usage_copilot_users_trained", "policy_reviewed_within_cycle"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    run_demo(db=db, users=USERS, days=DAYS, seed=SEED)
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
    expected = planted_findings(demo_tenant(USERS, DAYS, SEED), load_policy(policy_file),
                                datetime.now(UTC).date(), activity_collected=activity)
    assert {(f["check_id"], f["subject"]) for f in out["findings"]} == expected
    statuses = {c["check_id"]: c["status"] for c in out["checks"]}
    assert all(statuses[c] != "not_checked" for c in LICENCE_SIDE), statuses


def test_every_plant_tells_its_story_once() -> None:
    assert sorted(p.index for p in PLANTS) == list(range(len(PLANTS)))
    assert all(p.story for p in PLANTS)
    assert sum(1 for p in PLANTS if p.near_miss) == 7  # near misses
