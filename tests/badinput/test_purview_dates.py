"""Issue 19 item 5: a CreationTime at the limits of the calendar is a bad row, never an internal error."""

from __future__ import annotations

import orjson
import pytest

from tests.badinput.fixtures import RECORD, purview_export, tables_digest
from tests.conftest import assert_clean_failure, run_cli

LIMITS = ["9999-12-31T23:59:59", "0001-01-01T00:00:00", "1899-12-31T00:00:00", "2100-01-01T00:00:00Z",
          "294276-01-01T00:00:00", "-0001-01-01T00:00:00", "infinity"]


@pytest.mark.parametrize("when", LIMITS)
def test_a_creation_time_at_the_limits_is_a_bad_row(tmp_path, when) -> None:
    export = purview_export(tmp_path / "e.csv", [{**RECORD, "Id": "r-good"}, {**RECORD, "CreationTime": when}])
    db = tmp_path / "i.duckdb"
    refused = run_cli("import", "purview-audit", str(export), "--db", str(db))
    assert_clean_failure(refused, 2, "e.csv line 3: AuditData has no valid CreationTime; nothing was imported")
    before = tables_digest(db)
    rejects = tmp_path / "rejects.csv"
    result = run_cli("import", "purview-audit", str(export), "--db", str(db), "--skip-bad-rows",
                     "--reject-file", str(rejects), "--format", "json")
    assert result.code == 0, result.stderr
    summary = orjson.loads(result.stdout)
    assert (summary["imported"], summary["bad_rows"]) == (1, 1)
    assert rejects.read_text(encoding="utf-8").splitlines()[1].startswith("3,AuditData has no valid CreationTime,")
    assert tables_digest(db) != before
    assert run_cli("report", "--db", str(db), "--out", str(tmp_path / "r"), "--format", "csv").code in (0, 2)
