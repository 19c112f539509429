"""Issue 19 item 3: one CSV writer for every CSV output: CRLF, quoting of CR/LF/comma/quote, formulas
neutralised after leading whitespace and control characters, numbers kept, bidi overrides and NUL removed
(also in HTML)."""

from __future__ import annotations

import csv
import io

import duckdb
import pytest

from m365audit.csv_output import csv_text, safe_cell
from m365audit.report.safety import html_text
from tests.badinput.fixtures import cli_bytes, copy_database
from tests.conftest import run_cli

HOSTILE = ["\r=1+1", "\n=1+1", " \t=HYPERLINK(\"x\")", "\x01+cmd", "@SUM(A1)", "-2+3", "=1,2", 'say "hi"',
           "plain", "\u202egnp.exe", "a\x00b", "\u2066x\u2069", "\uff1dfull"]


@pytest.mark.parametrize("value,expected", [
    ("\r=1+1", "'\r=1+1"), ("  =1+1", "'  =1+1"), ("\x01\x02-1+1", "'\x01\x02-1+1"), ("\t1", "'\t1"),
    ("@x", "'@x"), ("+44 20", "'+44 20"), ("-5", "-5"), ("+1.5e3", "+1.5e3"), (" 12", " 12"),
    ("\u202eabc", "abc"), ("a\x00b", "ab"), ("\u2066\u2069", ""), ("ok", "ok"), (-5, -5), (1.5, 1.5),
    (None, None), (True, True)])
def test_a_cell_is_made_safe(value, expected) -> None:
    assert safe_cell(value) == expected


def test_rows_end_in_crlf_and_every_risky_cell_is_quoted() -> None:
    text = csv_text(["value", "n"], [[v, i] for i, v in enumerate(HOSTILE)])
    # Split as a spreadsheet does: a bare CR or LF outside quotes would end the row.
    assert text.endswith("\r\n")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert len(parsed) == len(HOSTILE) + 1 and all(len(row) == 2 for row in parsed)
    assert [int(row[1]) for row in parsed[1:]] == list(range(len(HOSTILE)))
    for row in parsed[1:]:
        cell = row[0]
        assert not cell.lstrip(" \t\r\n\x01").startswith(("=", "+", "@", "\uff1d")) or cell.startswith("'")
        assert "\u202e" not in cell and "\x00" not in cell and "\u2066" not in cell
    assert text == ('value,n\r\n"\'\r=1+1",0\r\n"\'\n=1+1",1\r\n"\' \t=HYPERLINK(""x"")",2\r\n\'\x01+cmd,3\r\n'
                    '\'@SUM(A1),4\r\n\'-2+3,5\r\n"\'=1,2",6\r\n"say ""hi""",7\r\nplain,8\r\ngnp.exe,9\r\nab,10\r\n'
                    'x,11\r\n\'\uff1dfull,12\r\n')
    assert _line_ends(text) == {"\r\n"}


def test_html_text_drops_bidi_and_nul() -> None:
    assert html_text("\u202e<b>gnp.exe\x00") == "&lt;b&gt;gnp.exe"


def _plant(db, name: str) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE sku_versions SET sku_part_number = ? WHERE sku_part_number = "
                    "(SELECT min(sku_part_number) FROM sku_versions)", [name])


def test_licences_csv_through_the_cli(base_db, tmp_path) -> None:
    db = copy_database(base_db, tmp_path)
    _plant(db, "\r=1+1\u202e")
    code, out, err = cli_bytes("licences", "--db", str(db), "--format", "csv")
    assert code == 0, err
    raw = out.decode("utf-8")
    assert raw.startswith("sku_id,sku_part_number,purchased,assigned,available,is_copilot\r\n")
    assert '"\'\r=1+1"' in raw and "\u202e" not in raw
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert all(len(r) == 6 for r in rows)


def test_check_foi_and_report_csv_end_lines_with_crlf(base_db, tmp_path) -> None:
    db = copy_database(base_db, tmp_path)
    _plant(db, "\r=1+1")
    check = cli_bytes("check", "--db", str(db), "--format", "csv")
    foi = cli_bytes("foi", "--db", str(db), "--format", "csv")
    assert (check[0], foi[0]) == (0, 0), (check[2], foi[2])
    for _, out, _ in (check, foi):
        assert _line_ends(out.decode("utf-8")) == {"\r\n"}
    out = tmp_path / "r"
    assert run_cli("report", "--db", str(db), "--out", str(out), "--format", "csv,html").code == 0
    for path in (out / "csv").glob("*.csv"):
        data = path.read_bytes().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(data, newline="")))
        assert data.endswith("\r\n") and len({len(r) for r in rows}) == 1, path.name
        assert "\u202e" not in data
    assert "\r=1+1" not in (out / "copilot-report.html").read_text(encoding="utf-8").replace("'\r=1+1", "")


def _line_ends(text: str) -> set[str]:
    """The line ends outside quoted fields: what a spreadsheet splits rows on."""
    inside, ends = False, set()
    for i, ch in enumerate(text):
        if ch == '"':
            inside = not inside
        elif ch in "\r\n" and not inside:
            if ch == "\r" and text[i + 1:i + 2] == "\n":
                ends.add("\r\n")
            elif ch == "\r" or not (i and text[i - 1] == "\r"):
                ends.add(repr(ch))
    return ends
