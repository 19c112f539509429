"""Issue 15, bad input and failure: a kill between Graph accepting a query and its id being saved,
429 quota answers waited out, and a records page that fails mid-way.

The real CLI (or the real collector in-process where a setting has no flag) over HTTP
against the simulated tenant, which counts the queries it created.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from m365audit.collect.audit_plan import Slice
from m365audit.collect.audit_settings import AuditSettings
from m365audit.errors import CollectionError
from m365audit.simulator.audit import service_for
from m365audit.simulator.http import GraphHttpError, Request, Response, error_body
from m365audit.store.db import open_db
from tests.collect.test_audit_queries import _collect, _expected, _records, _statuses, _tenant, collect_env
from tests.conftest import assert_clean_failure, collect_from
from tests.dbcompare import assert_same_database

QUERIES = "/security/auditLog/queries"
# What a collection leaves in the database besides the public views (query ids and times differ by run).
SAVED = ("audit_records",
         "(SELECT window_start, window_end, record_types, filters, status, records_fetched, api_version "
         "FROM audit_queries)",
         "(SELECT source, key, value FROM collection_state WHERE source = 'audit')")


def _cli_args(server, db) -> list[str]:
    start, end = server.tenant.activity.window
    return [sys.executable, "-m", "m365audit", "collect", "--db", str(db), "--graph-url", server.url, "--auth",
            "token", "--only", "audit", "--since", start.isoformat(), "--until", end.isoformat()]


def _kill_after_creation(server, number: int, proc: dict[str, Any]):
    """A hook: Graph creates the ``number``th query, then the collector is SIGKILLed before it reads the answer."""
    posts = {"n": 0}

    def hook(request: Request) -> Response | None:
        if request.method != "POST" or request.path != QUERIES:
            return None
        posts["n"] += 1
        try:
            answer = server.graph.router.dispatch(request)  # Graph accepts the query ...
        except GraphHttpError:
            return None
        if posts["n"] == number:
            proc["p"].send_signal(signal.SIGKILL)  # ... and the process dies before its id is saved
            proc["p"].wait(timeout=30)
        return answer

    return hook


@pytest.mark.parametrize("number", [1, 2])
def test_a_kill_after_graph_accepted_a_query_creates_no_second_query_for_its_window(
        make_server, tmp_path, number) -> None:
    tenant = _tenant(audit_list_page_size=1)  # 90 days: three 30-day queries, the list one query a page
    server = make_server(tenant)
    db = tmp_path / "a.duckdb"
    proc: dict[str, Any] = {}
    server.graph.hooks.append(_kill_after_creation(server, number, proc))
    proc["p"] = subprocess.Popen(_cli_args(server, db), env={**os.environ, **collect_env(server)},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert proc["p"].wait(timeout=120) == -signal.SIGKILL
    service = service_for(tenant)
    assert len(service.created) == number
    with open_db(db, read_only=True) as con:  # the killed query is known only by the name it was created with
        intended = con.execute("SELECT display_name FROM audit_queries WHERE status = 'intended'").fetchall()
        saved = con.execute("SELECT count(*) FROM audit_queries WHERE status <> 'intended'").fetchone()[0]
    killed = service.queries[list(service.queries)[number - 1]]
    assert (killed.body["displayName"],) in intended
    assert killed.body["displayName"].startswith(f"m365audit {killed.start:%Y-%m-%dT%H:%M:%S}Z to ")
    server.graph.hooks.clear()

    rerun = _collect(server, db)
    assert rerun.code == 0, rerun.stderr
    # Every query Graph created whose id was not saved yet (the others' creations overlap) is adopted.
    assert 1 <= number - saved and f"queries_adopted={number - saved} " in rerun.stderr
    created = service.created
    assert len(created) == len(set(created)) == 3  # the killed query was adopted, not created again
    assert server.graph.versioned_requests["GET", "v1.0", QUERIES] == number  # paged to the adopted one
    assert _records(db) == _expected(tenant) and _statuses(db) == [("landed", 3)]
    with open_db(db, read_only=True) as con:
        adopted = con.execute("SELECT display_name FROM audit_queries WHERE query_id = ?", [killed.id]).fetchall()
    assert adopted == [(killed.body["displayName"],)]

    reference = make_server(_tenant(audit_list_page_size=1))
    clean = tmp_path / "clean.duckdb"
    assert _collect(reference, clean).code == 0
    assert reference.graph.versioned_requests["GET", "v1.0", QUERIES] == 0  # nothing to adopt: no list read
    assert_same_database(db, clean, tables=SAVED)


def test_an_intent_graph_never_received_is_dropped_and_its_window_queried(make_server, tmp_path) -> None:
    tenant = _tenant(days=20)
    server = make_server(tenant)
    db = tmp_path / "a.duckdb"
    proc: dict[str, Any] = {}

    def kill_before_creation(request: Request) -> Response | None:
        if request.method == "POST" and request.path == QUERIES:
            proc["p"].send_signal(signal.SIGKILL)
            proc["p"].wait(timeout=30)
            return Response(503, error_body("ServiceUnavailable", "gone"), {"Content-Type": "application/json"})
        return None

    server.graph.hooks.append(kill_before_creation)
    proc["p"] = subprocess.Popen(_cli_args(server, db), env={**os.environ, **collect_env(server)},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert proc["p"].wait(timeout=120) == -signal.SIGKILL
    assert _statuses(db) == [("intended", 1)] and not service_for(tenant).created
    planned = _collect(server, db, "--plan")
    assert "1 query a stopped run may have created without saving the id" in planned.stdout
    server.graph.hooks.clear()

    def list_denied(request: Request) -> Response | None:
        if request.method == "GET" and request.path == QUERIES:
            return Response(403, error_body("Forbidden", "Listing denied."), {"Content-Type": "application/json"})
        return None

    server.graph.hooks.append(list_denied)  # the intent cannot be looked up: nothing is created for it
    blind = _collect(server, db)
    assert blind.code == 3 and "Traceback" not in blind.stderr
    assert "the tenant's audit log queries could not be listed (403 Forbidden: Listing denied.), so 1 query a " \
           "stopped run may have created" in blind.stderr
    assert not service_for(tenant).created and _statuses(db) == [("intended", 1)]
    server.graph.hooks.clear()
    rerun = _collect(server, db)
    assert rerun.code == 0, rerun.stderr
    assert "queries=1 queries_resumed=0 queries_adopted=0" in rerun.stderr
    assert len(service_for(tenant).created) == 1 and server.graph.versioned_requests["GET", "v1.0", QUERIES] == 2
    assert _records(db) == _expected(tenant) and _statuses(db) == [("landed", 1)]


def _post_times(times: list[float]):
    def hook(request: Request) -> Response | None:
        if request.method == "POST" and request.path == QUERIES:
            times.append(time.monotonic())
        return None
    return hook


def test_quota_answers_are_waited_out_as_graph_asks_then_collection_succeeds(make_server, tmp_path) -> None:
    tenant = _tenant(days=20, audit_quota_refusals=2, audit_quota_retry_after=1)
    server = make_server(tenant)
    times: list[float] = []
    server.graph.hooks.append(_post_times(times))
    db = tmp_path / "a.duckdb"
    result = _collect(server, db)
    assert result.code == 0, result.stderr
    assert "quota" not in result.stderr and "Warning" not in result.stderr
    assert len(times) == 3 and all(b - a >= 1.0 for a, b in zip(times, times[1:], strict=False))
    service = service_for(tenant)
    assert service.refused == 2 and len(service.created) == 1
    assert _records(db) == _expected(tenant) and _statuses(db) == [("landed", 1)]


def test_a_quota_wait_longer_than_the_time_budget_gives_up_at_once(make_server, tmp_path) -> None:
    tenant = _tenant(days=20, audit_quota_refusals=1, audit_quota_retry_after=600)
    server = make_server(tenant)
    times: list[float] = []
    server.graph.hooks.append(_post_times(times))
    db = tmp_path / "a.duckdb"
    started = time.monotonic()
    result = _collect(server, db, "--time-budget", "0.5")  # 30 s: Graph asks for 600
    assert_clean_failure(result, 3, "no audit records could be collected: tenant audit query quota reached",
                         "Graph asked to wait 600 s")
    assert time.monotonic() - started < 30 and len(times) == 1 and not service_for(tenant).created
    assert _statuses(db) == [] and _records(db) == 0  # the refused query's intent is gone too


def test_a_records_page_that_fails_mid_way_is_paged_again_by_the_next_run(make_server, tmp_path) -> None:
    tenant = _tenant(days=20, audit_page_size=40)
    server = make_server(tenant)
    failing = {"on": True, "served": 0}

    def fail_from_the_sixth_page(request: Request) -> Response | None:
        if failing["on"] and request.path.endswith("/records"):
            failing["served"] += 1
            if failing["served"] > 5:
                return Response(500, error_body("InternalServerError", "broken"), {"Content-Type": "application/json"})
        return None

    server.graph.hooks.append(fail_from_the_sixth_page)
    db = tmp_path / "a.duckdb"
    start, end = tenant.activity.window
    options: dict[str, Any] = {"only": ("audit",), "since": start, "until": end,
                               "audit": AuditSettings(poll_initial=0.05, chunk_bytes=int(0.02 * 2**20))}
    with pytest.raises(CollectionError) as raised:
        collect_from(server, db, **options)
    assert f"audit records {Slice(start, end).label()}: paging its records failed" in raised.value.message
    landed = _records(db)
    assert 0 < landed < _expected(tenant)  # chunks landed before the failure stay committed
    assert _statuses(db) == [("succeeded", 1)]  # not landed: the next run pages it again
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT value FROM collection_state WHERE key = 'watermark:CopilotInteraction'"
                           ).fetchone() is None
    failing["on"] = False
    again = collect_from(server, db, **options)
    audit = again.counts["audit"]
    assert len(service_for(tenant).created) == 1 and audit["queries"] == 0 and audit["queries_resumed"] == 1
    assert audit["duplicates"] == landed and audit["new"] == _expected(tenant) - landed  # each record kept once
    reference = make_server(_tenant(days=20, audit_page_size=40))
    clean = tmp_path / "clean.duckdb"
    collect_from(reference, clean, **options)
    assert_same_database(db, clean, tables=SAVED)


def test_a_failed_query_is_replaced_once_and_its_window_collected_exactly(make_server, tmp_path) -> None:
    tenant = _tenant(days=20)
    server = make_server(tenant)
    verdicts = iter(["failed"])
    service_for(tenant).fail_query = lambda query: next(verdicts, None)  # the first query fails, its replacement not
    db = tmp_path / "a.duckdb"
    result = _collect(server, db)
    assert result.code == 0, result.stderr
    assert "queries=2 queries_resumed=0 queries_adopted=0 queries_replaced=1" in result.stderr
    created = service_for(tenant).created
    assert len(created) == 2 and created[0] == created[1]  # the one window queried twice: a replacement
    assert _statuses(db) == [("failed", 1), ("landed", 1)] and _records(db) == _expected(tenant)



def test_sigterm_ends_a_quota_wait_at_once(make_server, tmp_path) -> None:
    tenant = _tenant(days=20, audit_quota_refusals=1, audit_quota_retry_after=300)
    server = make_server(tenant)
    times: list[float] = []
    server.graph.hooks.append(_post_times(times))
    db = tmp_path / "a.duckdb"
    proc = subprocess.Popen(_cli_args(server, db), env={**os.environ, **collect_env(server)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not times and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the collector is now waiting the 300 s Graph asked for
    proc.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    _, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - stopped < 20 and proc.returncode == 3, stderr
    assert "Traceback" not in stderr and "Collection stopped by SIGTERM" in stderr
    assert len(times) == 1 and not service_for(tenant).created and _statuses(db) == []
