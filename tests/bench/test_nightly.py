"""The nightly run of the reports stage: `m365audit run` one night after the demo stores exactly the new day."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bench.nightly import NEW_DAYS, check_new_day, nightly, records_between
from bench.reports import DAYS, SEED, build
from m365audit.collect.audit import read_watermark
from m365audit.demo import demo_audit
from m365audit.simulator.planted import demo_tenant
from m365audit.store.db import open_db

USERS = 200


def _stored(db: Path) -> int:
    with open_db(db, read_only=True) as con:
        row = con.execute("SELECT count(*) FROM audit_records").fetchone()
    return int(row[0]) if row else 0


def test_the_nightly_run_collects_the_overlap_and_stores_only_the_new_day(tmp_path: Path) -> None:
    db = tmp_path / "bench.duckdb"
    _, anchor = build(tmp_path, db, USERS)
    types = demo_audit().record_types
    mark = read_watermark(db, types)
    assert mark is not None
    before = _stored(db)
    end = anchor + timedelta(days=NEW_DAYS)
    assert records_between(db, anchor, end) == 0

    row = nightly(tmp_path, db, USERS, anchor)

    # The truth from the simulator's model: the tenant one night later.
    model = demo_tenant(USERS, DAYS, SEED, anchor, extra_days=NEW_DAYS).activity
    new_day = model.count(anchor, end, types)
    # A night later the demo's landed query is no longer trusted (the run sets requery_after_hours = 0 for
    # the night that passes in the tenant but not on the wall clock), so the run re-reads its overlap before
    # the watermark: new-day records timed before the demo ran (late arrivals, to the collector) included.
    received = model.count(mark - demo_audit().overlap, end, types)
    assert new_day > 0
    assert row.records == received
    assert f"received {received:,}, new {new_day:,} (the new day)" in row.note
    assert "licences: 0 users changed" in row.note
    assert _stored(db) == before + new_day
    assert records_between(db, anchor, end) == new_day
    assert row.peak_rss_mib and row.peak_rss_mib > 0 and row.seconds > 0


@pytest.mark.parametrize(("new", "stored"), [(5, 6), (6, 5), (7, 7)])
def test_a_nightly_run_that_misses_or_adds_records_stops_the_benchmark(new: int, stored: int) -> None:
    with pytest.raises(RuntimeError, match="new day|has 6"):
        check_new_day(new, stored, 6)
    check_new_day(6, 6, 6)
