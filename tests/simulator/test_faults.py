"""Fault injection in the simulated tenant: deterministic from the seed, Graph-shaped answers."""

from __future__ import annotations

import httpx
import pytest

from m365audit.simulator.faults import FaultPlan, deny_permissions, install, parse_faults
from tests.conftest import assert_clean_failure, run_cli

AUTH = {"Authorization": "Bearer anything"}


def test_parse_spec() -> None:
    plan = parse_faults("429=0.05,503=0.02, reset=0.01,delta_expired=1,retry_after=0.5,slow_seconds=0.1")
    assert plan.rates == {"429": 0.05, "503": 0.02, "reset": 0.01, "delta_expired": 1.0}
    assert (plan.retry_after, plan.slow_seconds) == (0.5, 0.1)
    assert parse_faults("").empty


@pytest.mark.parametrize(("spec", "message"), [
    ("429", "is not NAME=VALUE"),
    ("429=lots", "needs a number"),
    ("429=1.5", "between 0 and 1"),
    ("teapot=0.1", "'teapot' is not a fault"),
    ("retry_after=-1", "between 0 and 3600"),
])
def test_bad_spec(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_faults(spec)


def _statuses(server, n: int = 40) -> list[int]:
    out = []
    with httpx.Client(headers=AUTH) as client:
        for i in range(n):
            try:
                out.append(client.get(f"{server.url}/users", params={"$top": str(1 + i % 7)}).status_code)
            except httpx.TransportError:
                out.append(-1)
    return out


def test_same_seed_same_faults(make_server) -> None:
    plan = FaultPlan({"429": 0.2, "503": 0.1, "504": 0.1, "reset": 0.1}, retry_after=0)
    runs = []
    for seed in (5, 5, 6):
        server = make_server(users=30)
        install(server.graph, plan, seed)
        runs.append(_statuses(server))
    assert runs[0] == runs[1] != runs[2]
    assert {429, 503, 504, -1, 200} <= set(runs[0])


def test_retried_requests_draw_afresh_and_429_carries_retry_after(make_server) -> None:
    server = make_server(users=10)
    injector = install(server.graph, FaultPlan({"429": 0.5}, retry_after=2.5), seed=1)
    answers = [httpx.get(f"{server.url}/users", headers=AUTH) for _ in range(30)]
    throttled = [a for a in answers if a.status_code == 429]
    assert 0 < len(throttled) < 30 and injector.injected["429"] == len(throttled)
    assert {a.headers["Retry-After"] for a in throttled} == {"2.5"}
    assert throttled[0].json()["error"]["code"] == "TooManyRequests"


def test_truncate_only_cuts_json(make_server) -> None:
    server = make_server(users=10)
    install(server.graph, FaultPlan({"truncate": 1.0}), seed=1)
    answer = httpx.get(f"{server.url}/users", headers=AUTH)
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()


def test_expired_delta_links(make_server) -> None:
    server = make_server(users=10)
    first = httpx.get(f"{server.url}/users/delta", headers=AUTH).json()
    install(server.graph, FaultPlan({"delta_expired": 1.0}), seed=1)
    again = httpx.get(first["@odata.deltaLink"], headers=AUTH)
    assert again.status_code == 400 and again.json()["error"]["code"] == "syncStateNotFound"
    # A fresh round (no token) still works.
    assert httpx.get(f"{server.url}/users/delta", headers=AUTH).status_code == 200


def test_deny_a_permission(make_server) -> None:
    server = make_server(users=10)
    server.graph.hooks.append(deny_permissions({"User.Read.All"}))
    denied = httpx.get(f"{server.url}/users", headers=AUTH)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"
    assert httpx.get(f"{server.url}/subscribedSkus", headers=AUTH).status_code == 200


def test_simulate_refuses_a_bad_fault_spec() -> None:
    result = run_cli("simulate", "--port", "0", "--faults", "429=2")
    assert_clean_failure(result, 2, "--faults", "between 0 and 1")
