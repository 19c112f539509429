"""Figures the report and the checks share agree on the same database (one definition each, in SQL).

The report's unlabelled share and the labels check read the view copilot_read_items;
the report's seats to reclaim and the idle-seat check judge the same seat holders on
the same day; the headline's unassigned seats and the unassigned-seat check count the
same seats.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from m365audit.checks.runner import run_checks
from m365audit.policy import Policy
from m365audit.store.db import open_db
from tests.report.conftest import read_csv


@pytest.fixture(scope="module")
def judged(report_db: Path, report_dir: Path, policy: Policy):
    """The checks run as of the report's snapshot day, with limits low enough that every shared check reports."""
    headline = {r["measure"]: r for r in read_csv(report_dir / "csv" / "headline.csv")}
    provenance = read_csv(report_dir / "csv" / "provenance.csv")
    strict = replace(policy, max_unlabelled_share=0.0, unassigned_seat_tolerance=0)
    with open_db(report_db, read_only=True) as con:
        as_of = con.execute("SELECT max(snapshot_at) FROM users").fetchone()[0]
        run = run_checks(con, strict, datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC))
    assert provenance
    return {r.check.id: r for r in run.results}, headline


def test_unlabelled_share_agrees_with_the_labels_check(judged, report_dir: Path) -> None:
    results, _ = judged
    detail = results["labels_copilot_resources_labelled"].findings[0].detail
    unlabelled, total = map(int, re.match(r"(\d+) of (\d+) items", detail or "").groups())
    share = read_csv(report_dir / "csv" / "labels_unlabelled.csv")[-1]
    assert share["kind"] == "All but web results (the policy's share)"
    assert (int(share["unlabelled"]), int(share["resources"])) == (unlabelled, total)
    assert 0 < unlabelled < total
    assert float(share["unlabelled_share"]) == pytest.approx(unlabelled / total)


def test_seats_to_reclaim_agree_with_the_idle_seat_check(judged, report_dir: Path) -> None:
    results, _ = judged
    idle = {f.subject.casefold() for f in results["licence_copilot_seats_used"].findings}
    reclaim = {r["user_principal_name"].casefold() for r in read_csv(report_dir / "csv" / "reclaim.csv")}
    assert reclaim and reclaim == idle


def test_unassigned_seats_agree_with_the_unassigned_seat_check(judged) -> None:
    results, headline = judged
    counted = sum(int(re.match(r"(\d+) of", f.detail or "").group(1))
                  for f in results["licence_copilot_no_unassigned_seats"].findings)
    assert int(float(headline["seats_unassigned"]["value"])) == counted
