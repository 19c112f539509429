"""`m365audit import usage-report`: v1 and v2 layouts, bad input (exit 2, line number, nothing written),
duplicates, and an older report never replacing a newer one."""

from __future__ import annotations

import json
from datetime import date

import pytest

from m365audit.store.db import open_db
from tests.conftest import assert_clean_failure, run_cli, without_progress

V1 = ("Report Refresh Date,User Principal Name,Display Name,Last Activity Date,Copilot Chat Last Activity Date,"
      "Microsoft Teams Copilot Last Activity Date,Word Copilot Last Activity Date,Excel Copilot Last Activity Date,"
      "PowerPoint Copilot Last Activity Date,Outlook Copilot Last Activity Date,OneNote Copilot Last Activity Date,"
      "Loop Copilot Last Activity Date,Report Period")
V2_EXTRA = ("Prompts submitted for all apps,Prompts submitted for Copilot Chat (work),"
            "Prompts submitted for Copilot Chat (web),Active Usage Days for all apps,"
            "Copilot Chat (work) Last Activity Date,Copilot Chat (web) Last Activity Date,"
            "Microsoft 365 Copilot Last Activity Date,Edge Last Activity Date,Copilot Agent Last Activity Date")
ANA = "2026-07-03,ana@example.gov.uk,Ana Smith,2026-07-02,2026-07-01,,2026-07-02,,,,,,30"
BEN = "2026-07-03,Ben@Example.gov.uk,\"Jones, Ben\",,,,,,,,,,30"


def _write(tmp_path, lines: list[str], name: str = "usage.csv") -> str:
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    return str(path)


def _import(tmp_path, file: str, *extra: str):
    return run_cli("import", "usage-report", file, "--db", str(tmp_path / "u.duckdb"), *extra)


def _stored(tmp_path) -> tuple[int, int]:
    with open_db(tmp_path / "u.duckdb", read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM usage_report_rows").fetchone()
        runs = con.execute("SELECT count(*) FROM runs").fetchone()
    assert rows is not None and runs is not None
    return int(rows[0]), int(runs[0])


def test_version_1_layout(tmp_path) -> None:
    result = _import(tmp_path, _write(tmp_path, [V1, ANA, BEN]), "--format", "json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["usage_report"] == {
        "rows": 2, "names_concealed": 0, "duplicates": 0, "dropped_out_of_scope": 0, "dropped_concealed": 0,
        "report_refresh_date": "2026-07-03", "newer_report_kept": None}
    with open_db(tmp_path / "u.duckdb", read_only=True) as con:
        rows = con.execute("SELECT user_principal_name, display_name, last_activity_date, word_copilot_last_activity_date,"
                           " report_period, report_version, prompts_submitted FROM usage_report_rows ORDER BY 1").fetchall()
    assert rows == [("ana@example.gov.uk", "Ana Smith", date(2026, 7, 2), date(2026, 7, 2), 30, "v1", None),
                    ("ben@example.gov.uk", "Jones, Ben", None, None, 30, "v1", None)]


def test_version_2_layout(tmp_path) -> None:
    lines = [V1 + "," + V2_EXTRA, ANA.replace(",30", ",28") + ",41,12,3,9,2026-07-01,2026-06-20,,,2026-06-30"]
    result = _import(tmp_path, _write(tmp_path, lines))
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "Imported 1 usage report rows from usage.csv."
    with open_db(tmp_path / "u.duckdb", read_only=True) as con:
        row = con.execute("""
            SELECT report_period, report_version, prompts_submitted, copilot_chat_work_prompts_submitted,
                   copilot_chat_web_prompts_submitted, active_usage_days, copilot_chat_work_last_activity_date,
                   copilot_chat_web_last_activity_date, microsoft_365_copilot_last_activity_date,
                   edge_copilot_last_activity_date, agent_last_activity_date FROM copilot_usage""").fetchone()
    assert row == (28, "v2", 41, 12, 3, 9, date(2026, 7, 1), date(2026, 6, 20), None, None, date(2026, 6, 30))


@pytest.mark.parametrize(("lines", "message"), [
    ([V1, ANA, ANA + ",extra"], "usage.csv line 3 has more cells than the header has columns"),
    ([V1, ANA, ANA.rsplit(",", 2)[0]], "usage.csv line 3 has fewer cells than the header has columns"),
    ([V1, ANA, '2026-07-03,"cut@example.gov.uk,Cut,2026-07-02,,,,,,,,,30'], "line 3 has a quoted value that is not closed"),
    ([V1, ANA, "2026-07-03,big@example.gov.uk," + "x" * 5_000_000 + ",,,,,,,,,,30"],
     "usage.csv line 3 is longer than 1024 KiB"),
], ids=["extra-cells", "missing-cells", "unclosed-quote", "5MB-field"])
def test_rows_that_do_not_fit_the_header(tmp_path, lines, message) -> None:
    result = _import(tmp_path, _write(tmp_path, lines))
    assert_clean_failure(result, 2, message, "nothing was imported")
    assert len(without_progress(result.stderr)) == 1
    assert _stored(tmp_path) == (0, 0)


def test_a_file_cut_short(tmp_path) -> None:
    path = tmp_path / "usage.csv"
    path.write_bytes(("\r\n".join([V1, ANA, BEN]) + "\r\n").encode()[:-40])  # the download stopped mid-row
    result = _import(tmp_path, str(path))
    assert_clean_failure(result, 2, "usage.csv line 3 has fewer cells than the header has columns (it may be cut short)")
    assert _stored(tmp_path) == (0, 0)


@pytest.mark.parametrize("body", [
    b"Report Refresh Date,User Principal Name,Display Name,Last Activity Date,Report Period\n9999-12-31,9999-12-31,0\r\n",
    b"Report Refresh Date,User Principal Name,Display Name,Last Activity Date,Report Period\r\n"
    b"2026-07-03,ana@example.gov.uk,Ana Smith,2026-07-02,30\n",
], ids=["LF-then-CRLF", "CRLF-then-LF"])
def test_lines_ending_two_ways_are_one_sentence(tmp_path, body: bytes) -> None:
    """Found by the hostile-input property test: DuckDB's reader stops on the file as a whole (exit 4 before)."""
    path = tmp_path / "usage.csv"
    path.write_bytes(body)
    result = _import(tmp_path, str(path))
    assert_clean_failure(result, 2, "usage.csv is not a well-formed CSV file (The CSV Parser state machine "
                         "reached an invalid state; lines ending in both LF and CR LF", "nothing was imported")
    assert _stored(tmp_path) == (0, 0)


@pytest.mark.parametrize("value", ["infinity", "-infinity", "0044-03-15 (BC)", "294276-01-01", "2026-02-30",
                                   "1999-12-31", "03/07/2026"])
def test_dates_that_are_not_calendar_dates(tmp_path, value) -> None:
    row = ANA.replace("2026-07-02,2026-07-01", f"{value},2026-07-01", 1)
    result = _import(tmp_path, _write(tmp_path, [V1, BEN, row]))
    assert_clean_failure(result, 2, "usage.csv line 3: Last Activity Date is not a date like 2026-03-31",
                         "nothing was imported")
    assert _stored(tmp_path) == (0, 0)


def test_refresh_date_at_infinity_is_refused(tmp_path) -> None:
    result = _import(tmp_path, _write(tmp_path, [V1, ANA.replace("2026-07-03", "infinity", 1)]))
    assert_clean_failure(result, 2, "line 2: Report Refresh Date is not a date like 2026-03-31")


@pytest.mark.parametrize("value", ["thirty", "30.5", "-7", "0", "99999"])
def test_report_period_not_a_number_of_days(tmp_path, value) -> None:
    result = _import(tmp_path, _write(tmp_path, [V1, ANA, BEN.replace(",30", f",{value}")]))
    assert_clean_failure(result, 2, "usage.csv line 3: the Report Period is not a whole number of days")
    assert _stored(tmp_path) == (0, 0)


def test_prompt_counts_must_be_whole_numbers(tmp_path) -> None:
    lines = [V1 + "," + V2_EXTRA, ANA.replace(",30", ",28") + ",many,1,1,1,,,,,"]
    result = _import(tmp_path, _write(tmp_path, lines))
    assert_clean_failure(result, 2, "line 2: Prompts submitted for all apps is not a whole number")


def test_duplicate_rows_are_imported_once(tmp_path) -> None:
    result = _import(tmp_path, _write(tmp_path, [V1, ANA, BEN, ANA, " " + ANA.replace("ana@", "ANA@")]))
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "Imported 2 usage report rows from usage.csv (2 repeated rows imported once)."
    assert _stored(tmp_path) == (2, 1)


def test_two_different_rows_for_one_user_are_refused(tmp_path) -> None:
    result = _import(tmp_path, _write(tmp_path, [V1, ANA, BEN, ANA.replace("2026-07-01", "2026-06-01")]))
    assert_clean_failure(result, 2, "usage.csv line 4 gives different figures for the same user and Report Period "
                                    "as line 2")
    assert _stored(tmp_path) == (0, 0)


def test_an_older_report_does_not_replace_a_newer_one(tmp_path) -> None:
    newer = _write(tmp_path, [V1, ANA], "newer.csv")
    older = _write(tmp_path, [V1, BEN.replace("2026-07-03", "2026-06-01")], "older.csv")
    assert _import(tmp_path, newer).code == 0
    result = _import(tmp_path, older)
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == ("Imported nothing from older.csv: its Report Refresh Date 2026-06-01 is older "
                                     "than the stored report's (2026-07-03), which was kept.")
    assert "older than the one already stored" in result.stderr
    with open_db(tmp_path / "u.duckdb", read_only=True) as con:
        assert con.execute("SELECT user_principal_name, report_refresh_date FROM copilot_usage").fetchall() == [
            ("ana@example.gov.uk", date(2026, 7, 3))]
        assert con.execute("SELECT count(*) FROM usage_report_rows").fetchone() == (1,)
    # The same date again replaces it (a corrected export); a newer date too.
    assert _import(tmp_path, _write(tmp_path, [V1, BEN], "same.csv")).code == 0
    with open_db(tmp_path / "u.duckdb", read_only=True) as con:
        assert con.execute("SELECT user_principal_name FROM copilot_usage").fetchall() == [("ben@example.gov.uk",)]


def test_an_older_collected_report_is_not_shown_over_a_newer_import(tmp_path) -> None:
    """The view picks the newest Report Refresh Date, whatever was stored last."""
    assert _import(tmp_path, _write(tmp_path, [V1, ANA], "a.csv")).code == 0
    with open_db(tmp_path / "u.duckdb") as con:
        con.execute("INSERT INTO usage_report_rows (run_id, source, report_refresh_date, user_principal_name, "
                    "names_concealed, collected_at) VALUES ('late', 'graph-v1.0', DATE '2026-05-01', 'x@y', false, "
                    "now() + INTERVAL 1 DAY)")
        assert con.execute("SELECT user_principal_name FROM copilot_usage").fetchall() == [("ana@example.gov.uk",)]
