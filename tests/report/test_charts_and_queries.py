"""Units: SVG charts escape their text and scale; report SQL files carry a valid header."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from m365audit.report.charts import _ticks, bar_chart, line_chart
from m365audit.report.queries import _parse, report_query
from m365audit.resources import queries_dir

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_chart_escapes_labels_and_scales_bars() -> None:
    chart = bar_chart("Users <by> dept", ["<script>alert(1)</script>", 'A "quoted" & long department name here'],
                      [("Licensed", [10, 5]), ("Active", [4, None])])
    root = ET.fromstring(chart.svg)  # well-formed XML: every label was escaped
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "Users <by> dept"
    assert "<script>" not in chart.svg and "&lt;script&gt;" in chart.svg
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert widths[0] == pytest.approx(2 * widths[2])  # 10 is twice 5
    assert widths[1] == pytest.approx(0.4 * widths[0])
    assert len(widths) == 3  # the missing value draws no bar


def test_line_chart_breaks_at_missing_values() -> None:
    chart = line_chart("Trend", ["1 Jan", "8 Jan", "15 Jan", "22 Jan"], [("Seats", [1, 2, None, 4])])
    root = ET.fromstring(chart.svg)
    lines = list(root.iter(f"{SVG}polyline"))
    assert [len(p.get("points").split()) for p in lines] == [2, 1]
    assert len(list(root.iter(f"{SVG}circle"))) == 3


@pytest.mark.parametrize(("top", "expected"), [(0, [0.0, 1.0]), (7, [0, 2, 4, 6, 8]), (39, [0, 10, 20, 30, 40]),
                                               (1000, [0, 250, 500, 750, 1000])])
def test_ticks_are_round(top, expected) -> None:
    assert _ticks(top) == pytest.approx(expected)


def test_every_report_query_has_a_header() -> None:
    files = sorted((queries_dir() / "reports").glob("*.sql"))
    tables = [f.stem for f in files if f.stem != "setup"]
    assert len(tables) >= 14
    for name in tables:
        query = report_query(name)
        assert query.title and query.description and query.columns, name
        select = re.findall(r"\b(\w+)\b", query.sql)
        assert all(c.name in select for c in query.columns), name


@pytest.mark.parametrize(("text", "problem"), [
    ("SELECT 1", "must start with '-- table: t'"),
    ("-- table: other\n-- title: T\n--   a (int): A\nSELECT 1 AS a", "must start with '-- table: t'"),
    ("-- table: t\n-- title: T\n--   a (integer): A\nSELECT 1 AS a", "unknown kind integer"),
    ("-- table: t\n-- title: T\nSELECT 1 AS a", "declares no columns"),
])
def test_bad_headers_are_refused(text, problem) -> None:
    with pytest.raises(RuntimeError, match=re.escape(problem)):
        _parse("t", text)


def test_header_flags() -> None:
    query = _parse("t", "-- table: t\n-- title: T\n-- What a row is.\n--   m (text, key): M\n"
                        "--   who (text, personal): Who\nSELECT 1")
    assert [(c.name, c.key, c.personal) for c in query.columns] == [("m", True, False), ("who", False, True)]
    assert query.description == "What a row is."
