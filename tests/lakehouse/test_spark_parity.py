"""The checks on Spark over the Delta export find exactly what they find on DuckDB over the database.

Starts a local Spark (pyspark and a Java runtime: `./dev setup-spark`), so it is marked
`spark`: the default `./dev test` leaves it out and CI runs it on its own (.ci/run).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.spark
POLICY = Path(__file__).resolve().parents[2] / "examples" / "policies" / "borough-council.toml"
CHECK_DATE = "2026-12-01"


def _need_spark() -> None:
    if os.environ.get("M365AUDIT_REQUIRE_SPARK"):
        return  # CI: a missing pyspark or Java fails the test below instead of skipping it
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (./dev setup-spark installs one)")


def _check(*args: str) -> dict:
    result = run_cli("check", "--policy", str(POLICY), "--format", "json", "--check-date", CHECK_DATE, *args,
                     timeout=600)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _comparable(report: dict) -> tuple[list, list]:
    checks = [(c["check_id"], c["status"], c["failures"], c["reason"]) for c in report["checks"]]
    findings = [(f["check_id"], f["severity"], f["subject"], f["detail"], f["excepted"], f["exception_reason"])
                for f in report["findings"]]
    return checks, findings


def test_every_check_finds_the_same_on_spark_as_on_duckdb(tmp_path) -> None:
    _need_spark()
    db, lake = tmp_path / "demo.duckdb", tmp_path / "lake"
    demo = run_cli("demo", "--users", "300", "--days", "5", "--no-history", "--db", str(db))
    assert demo.code == 0, demo.stderr
    exported = run_cli("export", "delta", str(lake), "--db", str(db))
    assert exported.code == 0, exported.stderr
    duck = _comparable(_check("--db", str(db)))
    spark = _comparable(_check("--engine", "spark", "--lake", str(lake)))
    assert spark == duck
    checks, findings = duck
    from m365audit.checks.catalogue import check_ids

    assert [c[0] for c in checks] == list(check_ids())  # every check ran on both engines
    statuses = {c[1] for c in checks}
    assert statuses == {"pass", "fail"} and len(findings) >= 10  # a comparison with something in it

