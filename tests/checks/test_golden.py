"""Golden tests: the compliant baseline passes every check; each case changes one thing and names the exact
subjects found (ScubaGear style: mutate one field of a compliant fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from m365audit.checks.catalogue import check_ids
from tests.checks.cases_agents import AGENT_CASES
from tests.checks.cases_licences import LICENCE_CASES
from tests.checks.cases_usage import USAGE_CASES
from tests.checks.golden import (
    Case,
    baseline_policy,
    baseline_tenant,
    build_case,
    outcome,
    run_all,
)

CASES: tuple[Case, ...] = LICENCE_CASES + USAGE_CASES + AGENT_CASES


def test_compliant_baseline_yields_no_findings(template: Path) -> None:
    run = run_all(template, baseline_policy(baseline_tenant()))
    assert outcome(run) == {check_id: ("pass", set()) for check_id in check_ids()}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_golden_case(case: Case, template: Path, tmp_path: Path) -> None:
    tenant, policy = build_case(case, template, tmp_path / "case.duckdb")
    found = outcome(run_all(tmp_path / "case.duckdb", policy))
    expected = case.expected(tenant)
    assert found[case.check_id] == ("fail" if expected else "pass", expected)
    also = case.also(tenant) if case.also else {}
    for check_id, subjects in also.items():
        assert found[check_id] == ("fail", subjects), check_id
    others = {check_id: result for check_id, result in found.items() if check_id not in {case.check_id, *also}}
    assert others == {check_id: ("pass", set()) for check_id in others}
