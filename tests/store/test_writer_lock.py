"""One writer per database file; readers keep reading; killed holders leave no stale lock."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from m365audit.errors import DatabaseError
from m365audit.store.db import open_db
from m365audit.store.lock import lock_path, writer_lock
from m365audit.store.runs import INTERRUPTED, start_run
from tests.conftest import assert_clean_failure, collect_from, hold_writer_lock, run_cli


def test_second_writer_stops_at_once_naming_the_holder(make_server, tmp_path) -> None:
    server = make_server(users=30)
    db = tmp_path / "t.duckdb"
    collect_from(server, db)
    holder = hold_writer_lock(db)
    try:
        started = time.monotonic()
        result = run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token",
                         "--only", "licences", env={"M365AUDIT_TOKEN": "x"})
        assert time.monotonic() - started < 20
        assert_clean_failure(result, 2, f"process {holder.pid}", "m365audit run", "started", str(db))
        # Readers are not blocked by the writer lock.
        reader = run_cli("licences", "--db", str(db), "--format", "json")
        assert reader.code == 0, reader.stderr
    finally:
        holder.kill()
        holder.wait()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,)


def test_lock_of_a_killed_process_is_not_stale(make_server, tmp_path) -> None:
    server = make_server(users=30)
    db = tmp_path / "t.duckdb"
    holder = hold_writer_lock(db)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert lock_path(db).exists()  # the file survives its holder ...
    collect_from(server, db)  # ... but its lock does not
    assert not lock_path(db).exists()


def test_lock_is_reentrant_in_one_process(tmp_path) -> None:
    db = tmp_path / "t.duckdb"
    with writer_lock(db, "run"):
        with writer_lock(db, "collect"):
            assert lock_path(db).exists()
        assert lock_path(db).exists()
    assert not lock_path(db).exists()


def test_second_lock_in_another_process_is_refused(tmp_path) -> None:
    db = tmp_path / "t.duckdb"
    holder = hold_writer_lock(db)
    try:
        with pytest.raises(DatabaseError, match=f"Another m365audit run \\(process {holder.pid}, started "):
            with writer_lock(db, "collect"):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_runs_left_running_by_a_killed_process_are_closed(make_server, tmp_path) -> None:
    server = make_server(users=30)
    db = tmp_path / "t.duckdb"
    with open_db(db) as con:
        start_run(con, "run")
    spool = tmp_path / ".t.duckdb.spool" / "m365audit-leftover"
    spool.mkdir(parents=True)
    (spool / "users.ndjson").write_text('{"personal": "data"}\n')
    collect_from(server, db)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT status, error FROM runs ORDER BY started_at").fetchall()
    assert rows[0] == ("failed", INTERRUPTED) and rows[1][0] == "succeeded"
    assert not spool.parent.exists()


def test_readers_wait_for_a_brief_write(make_server, tmp_path) -> None:
    server = make_server(users=30)
    db = tmp_path / "t.duckdb"
    collect_from(server, db)
    writer = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(2); c.close()", str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        result = run_cli("licences", "--db", str(db), "--format", "json")
        assert result.code == 0, result.stderr
    finally:
        writer.wait(timeout=30)


def test_database_and_its_log_are_private(make_server, tmp_path) -> None:
    server = make_server(users=30)
    db = tmp_path / "t.duckdb"
    collect_from(server, db)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    con = duckdb.connect(str(db))
    try:
        con.execute("CREATE TABLE scratch AS SELECT 1 AS x")
        wal = Path(str(db) + ".wal")
        assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    finally:
        con.close()
