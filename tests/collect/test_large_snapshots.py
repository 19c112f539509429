"""The paths a large directory takes, on a small one: chunked background staging and page envelopes."""

from __future__ import annotations

import duckdb

import m365audit.collect.directory as collect_directory
import m365audit.store.directory as store_directory
from m365audit.report.licences import licence_summary
from m365audit.store.db import open_db
from tests.conftest import collect_from


def test_user_pages_staged_in_chunks_during_the_fetch(make_server, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(collect_directory, "USER_CHUNK_PAGES", 1)  # 2,000 users: three chunks of one page
    server = make_server(users=2000, seed=8)
    db = tmp_path / "t.duckdb"
    result = collect_from(server, db)
    assert result.counts["licences"]["users"] == 2000
    with open_db(db, read_only=True) as con:
        summary = licence_summary(con)
        pages = con.execute("SELECT page_no FROM raw_pages WHERE source = 'users' ORDER BY 1").fetchall()
    summary.pop("as_of")
    assert summary == server.tenant.expected_licence_summary()
    assert pages == [(1,), (2,), (3,)]  # page numbers run on across the chunk files


def test_large_user_pages_are_kept_as_envelopes(make_server, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(store_directory, "RAW_USER_PAGES_LIMIT", 0)
    server = make_server(users=1500, seed=8)
    db = tmp_path / "t.duckdb"
    collect_from(server, db)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("""
            SELECT page_no, CAST(body->>'m365audit.records' AS INTEGER), body->>'@odata.nextLink' IS NOT NULL,
                   json_keys(body) FROM raw_pages WHERE source = 'users' ORDER BY page_no""").fetchall()
    assert [r[:3] for r in rows] == [(1, 999, True), (2, 501, False)]
    assert all("value" not in keys for *_, keys in rows)
