"""The benchmark runner: every stage is registered, and the table shows what each row measured."""

from __future__ import annotations

from bench.__main__ import SIZES, render
from bench.licences import USERS_BY_SIZE
from bench.purview_import import ROWS_BY_SIZE
from bench.purview_import import run as purview_run
from bench.stages import Row, Size, load_stages


def test_every_stage_is_registered_and_every_size_is_known_to_each() -> None:
    assert set(load_stages()) == {"audit-ingest", "licences", "purview-import", "reports", "lakehouse"}
    assert set(USERS_BY_SIZE) == set(ROWS_BY_SIZE) == set(SIZES)
    assert USERS_BY_SIZE["large"] == (10_000, 100_000, 1_000_000)
    assert ROWS_BY_SIZE["large"] == (200_000, 1_000_000)


def test_the_table_shows_rates_memory_and_notes() -> None:
    table = render([Row("licences", "snapshot 2,000 users", 2000, 4.0, 150.4, 6.0, "CPU 1.0s"),
                    Row("audit-ingest", "ratio ingest / baseline", 100, 2.0, note="0.70x (target >= 0.5x)")],
                   SIZES["smoke"])
    lines = table.splitlines()
    assert "size smoke" in lines[0] and "load average" in lines[0]
    assert lines[3].rstrip().endswith("CPU 1.0s") and " 150 " in lines[3]
    assert lines[4].rstrip().endswith("0.70x (target >= 0.5x)")


def test_the_purview_stage_imports_every_row_it_wrote() -> None:
    rows = purview_run(Size("test", 0, {"purview_rows": (2_000,)}))
    assert [(r.stage, r.records) for r in rows] == [("purview-import", 2_000)]
    assert rows[0].peak_rss_mib and rows[0].peak_rss_mib > 0 and rows[0].db_mib and rows[0].db_mib > 0
