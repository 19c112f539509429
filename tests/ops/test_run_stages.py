"""`run` calls each stage with the options its configuration names: a dropped argument fails here.

These guard the hand-offs between `run` and the stages it calls (the report's
pseudonymisation, the checks' severities against `fail_on`), end to end through
the CLI against a simulated tenant.
"""

from __future__ import annotations

import json

import duckdb
import openpyxl
import pytest

from m365audit.report.pseudonym import KEY_ENV
from tests.conftest import ANCHOR
from tests.ops.runhelp import log_lines, run, steps, write_config

KEY = "5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d"
POLICY = """\
[policy]
name = "Stage hand-off policy"

[licences]
inactive_after_days = 30
"""


def _report_text(folder) -> str:
    parts = []
    for path in sorted(folder.rglob("*")):
        if path.suffix in {".html", ".csv", ".md", ".json"}:
            parts.append(path.read_text(encoding="utf-8-sig"))
        elif path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            parts += [str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row]
            book.close()
    return "\n".join(parts).casefold()


def test_run_with_report_pseudonymise_writes_no_real_name(make_server, tmp_path) -> None:
    server = make_server(users=300)
    config = write_config(tmp_path, server.url)
    config.write_text(config.read_text().replace('folder = "reports"', 'folder = "reports"\npseudonymise = true'))
    result = run(config, env={"M365AUDIT_NOW": ANCHOR.isoformat(), KEY_ENV: KEY})
    assert result.code == 0, result.stderr
    folder = tmp_path / "reports" / f"{ANCHOR:%Y-%m-%d}"
    assert (folder / "copilot-report.html").exists() and (folder / "copilot-report.xlsx").exists()
    with duckdb.connect(str(tmp_path / "audit.duckdb"), read_only=True) as con:
        people = con.execute("SELECT user_principal_name, display_name FROM users").fetchall()
    text = _report_text(folder)
    assert len(people) == 300
    leaked = [v for upn, name in people for v in (upn, name) if v.casefold() in text]
    assert leaked == []
    assert "person-" in text  # the people are there, under pseudonyms


@pytest.mark.parametrize(("fail_on", "code"), [("critical", 0), ("high", 1), ("low", 1)])
def test_run_fail_on_exits_1_exactly_when_a_finding_reaches_it(make_server, tmp_path, fail_on, code) -> None:
    server = make_server(users=300)
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    config = write_config(tmp_path, server.url, f'\n[checks]\npolicy = "policy.toml"\nfail_on = "{fail_on}"\n')
    result = run(config, env={"M365AUDIT_NOW": ANCHOR.isoformat()})
    check = steps(result)["check"]
    by_severity = check["counts"]["by_severity"]
    # The simulated tenant has open high findings and no critical one; the check CLI agrees.
    assert by_severity["critical"] == 0 and by_severity["high"] > 0, by_severity
    assert result.code == code, result.stderr
    assert check["level"] == ("warning" if code == 1 else "info")
    final = log_lines(result)[-1]  # the run's own line: a warning too when findings decide exit code 1
    assert (final["event"], final["exit_code"], final["level"]) == ("run", code, "warning" if code == 1 else "info")
    with duckdb.connect(str(tmp_path / "audit.duckdb"), read_only=True) as con:
        stored = con.execute("""
            SELECT severity, count(*) FROM findings
            WHERE status = 'fail' AND NOT excepted AND checked_at = (SELECT max(checked_at) FROM findings)
            GROUP BY severity""").fetchall()
    assert dict(stored) == {k: v for k, v in by_severity.items() if v}
    assert json.dumps(by_severity)  # counts are plain JSON
