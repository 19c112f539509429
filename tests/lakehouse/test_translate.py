"""DuckDB SQL to Spark SQL: every check translates, the rewrites say what they should, variants are validated."""

from __future__ import annotations

import shutil

import pytest

from m365audit.checks import catalogue
from m365audit.checks.catalogue import CatalogueError, check_ids, load_catalogue, spark_variant
from m365audit.lakehouse.translate import UntranslatableError, to_spark


def test_every_check_translates_with_spark_parameters() -> None:
    for check in load_catalogue():
        spark = to_spark(check.sql)
        assert "$" not in spark, check.id
        for name in check.params:
            assert f":{name}" in spark, (check.id, name)


@pytest.mark.parametrize(("duckdb_sql", "spark_sql"), [
    ("SELECT list(DISTINCT lower(u) ORDER BY lower(u)) FROM t", "SELECT ARRAY_SORT(COLLECT_SET(LOWER(u))) FROM t"),
    ("SELECT string_agg(DISTINCT s, ', ' ORDER BY s) FROM t",
     "SELECT IF(SIZE(ARRAY_SORT(COLLECT_SET(s))) = 0, NULL, ARRAY_JOIN(ARRAY_SORT(COLLECT_SET(s)), ', ')) FROM t"),
    ("SELECT d::DATE + to_months(n::INTEGER) FROM t", "SELECT ADD_MONTHS(CAST(d AS DATE), CAST(n AS INT)) FROM t"),
    ("SELECT array_to_string(users[1:5], ', ') FROM t", "SELECT ARRAY_JOIN(SLICE(users, 1, 5 - 1 + 1), ', ') FROM t"),
    ("SELECT x FROM t WHERE a = ? AND b = $name AND c = '?'", "SELECT x FROM t WHERE a = :p1 AND b = :name AND c = '?'"),
])
def test_duckdb_idioms_are_rewritten(duckdb_sql: str, spark_sql: str) -> None:
    assert to_spark(duckdb_sql) == spark_sql


def test_a_list_ordered_by_something_else_needs_a_spark_variant() -> None:
    with pytest.raises(UntranslatableError, match="ordered by anything but its own values"):
        to_spark("SELECT list(u ORDER BY created_at) FROM t")


def test_spark_variants_sit_beside_their_check_and_are_not_checks(tmp_path, monkeypatch) -> None:
    for check in load_catalogue():
        shutil.copy(check.path, tmp_path / check.path.name)
    first = check_ids()[0]
    (tmp_path / f"{first}.spark.sql").write_text("-- Spark variant\nSELECT 'x' AS subject, 'y' AS detail\n")
    monkeypatch.setattr(catalogue, "checks_dir", lambda: tmp_path)
    load_catalogue.cache_clear()
    try:
        checks = load_catalogue()
        assert [c.id for c in checks] == sorted(p.stem for p in tmp_path.glob("*.sql") if ".spark" not in p.name)
        assert spark_variant(checks[0]) == "-- Spark variant\nSELECT 'x' AS subject, 'y' AS detail\n"
        assert spark_variant(checks[1]) is None
        (tmp_path / "no_such_check.spark.sql").write_text("SELECT 1\n")
        load_catalogue.cache_clear()
        with pytest.raises(CatalogueError, match="a Spark variant of no check"):
            load_catalogue()
    finally:
        monkeypatch.undo()
        load_catalogue.cache_clear()
