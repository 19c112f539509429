"""The Graph client's retry layer over a real socket: Retry-After, backoff, resets, 401, budget."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from m365audit.collect.graph import GraphClient, RetryPolicy, parse_graph_url
from m365audit.demo import _DemoCredential
from m365audit.errors import CollectionError
from m365audit.simulator.http import Request, Response, error_body


def _fail_first(n: int, status: int, path: str = "/subscribedSkus",
                headers: dict[str, str] | None = None) -> Callable[[Request], Response | None]:
    seen = {"count": 0}

    def hook(request: Request) -> Response | None:
        if request.path != path:
            return None
        seen["count"] += 1
        if seen["count"] <= n:
            return Response(status, error_body("TooManyRequests" if status == 429 else "Err", "no"),
                            {"Content-Type": "application/json", **(headers or {})})
        return None

    return hook


class FakeTime:
    """A clock and a sleep that advance together, so long waits take no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def _get(server, policy: RetryPolicy, path: str = "/subscribedSkus", credential=None) -> dict:
    async def go() -> dict:
        async with GraphClient(credential or _DemoCredential(), parse_graph_url(server.url), policy=policy) as c:
            return await c.get_json(path)
    return asyncio.run(go())


def test_retry_after_longer_than_the_sdk_accepts_is_honoured_within_the_budget(make_server) -> None:
    server = make_server(users=20)
    server.graph.hooks.append(_fail_first(2, 429, headers={"Retry-After": "200"}))
    fake = FakeTime()
    policy = RetryPolicy(budget_seconds=3600, clock=fake.clock, sleep=fake.sleep)
    body = _get(server, policy)
    assert len(body["value"]) > 0
    assert fake.waits == [200.0, 200.0]
    # The SDK's own retry handler is off: exactly three requests reached the server.
    assert server.graph.requests["/subscribedSkus"] == 3


def test_a_wait_beyond_the_budget_fails_the_step_at_once(make_server) -> None:
    server = make_server(users=20)
    server.graph.hooks.append(_fail_first(5, 503, headers={"Retry-After": "200"}))
    fake = FakeTime()
    policy = RetryPolicy(budget_seconds=300, clock=fake.clock, sleep=fake.sleep)
    with pytest.raises(CollectionError, match="time budget of 300 s would run out waiting 200 s"):
        _get(server, policy)
    assert fake.waits == [200.0]


def test_without_a_budget_very_long_waits_are_refused(make_server) -> None:
    server = make_server(users=20)
    server.graph.hooks.append(_fail_first(1, 429, headers={"Retry-After": "1000"}))
    fake = FakeTime()
    with pytest.raises(CollectionError, match="asked to wait 1000 s"):
        _get(server, RetryPolicy(clock=fake.clock, sleep=fake.sleep))
    assert fake.waits == []


def test_fractional_retry_after_and_backoff_on_5xx(make_server) -> None:
    server = make_server(users=20)
    server.graph.hooks.append(_fail_first(2, 429, headers={"Retry-After": "0.25"}))
    fake = FakeTime()
    _get(server, RetryPolicy(clock=fake.clock, sleep=fake.sleep))
    assert fake.waits == [0.25, 0.25]
    server.graph.hooks[:] = [_fail_first(3, 504, path="/groups")]
    fake = FakeTime()
    _get(server, RetryPolicy(base_delay=0.5, max_attempts=6, clock=fake.clock, sleep=fake.sleep), "/groups")
    assert len(fake.waits) == 3
    # Full jitter: each wait lies between 0 and base * 2**attempt.
    assert all(0 <= w <= 0.5 * 2 ** (i + 1) for i, w in enumerate(fake.waits))


def test_errors_give_up_after_max_attempts(make_server) -> None:
    server = make_server(users=20)
    server.graph.hooks.append(_fail_first(99, 500, path="/groups"))
    fake = FakeTime()
    with pytest.raises(CollectionError, match="/groups"):
        _get(server, RetryPolicy(max_attempts=4, clock=fake.clock, sleep=fake.sleep), "/groups")
    assert server.graph.requests["/groups"] == 4


def test_connection_reset_mid_body_and_truncated_json_are_retried(make_server) -> None:
    server = make_server(users=20)
    calls = {"n": 0}

    def break_twice(request: Request) -> Response | None:
        if request.path != "/users":
            return None
        calls["n"] += 1
        real = server.graph.router.dispatch(request)
        if calls["n"] == 1:
            return Response(real.status, real.body, real.headers, cut_after=40)  # reset mid-body
        if calls["n"] == 2:
            return Response(real.status, real.body[:40], real.headers)  # valid length, broken JSON
        return None

    server.graph.hooks.append(break_twice)
    body = _get(server, RetryPolicy(base_delay=0.01), "/users?$top=5")
    assert len(body["value"]) == 5 and calls["n"] == 3


def test_reset_is_a_transport_error_for_a_plain_client(make_server) -> None:
    server = make_server(users=5)
    server.graph.hooks.append(lambda r: Response(200, b'{"value": [1, 2, 3]}', {}, cut_after=5))
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/users", headers={"Authorization": "Bearer x"})


class RotatingCredential:
    """Hands out an old token until refreshed, like M365AUDIT_TOKEN rotated by a wrapper."""

    def __init__(self) -> None:
        self.token = "old-token"
        self.refreshed = 0

    def get_token(self, *scopes: str, **kwargs: object):
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, 4_000_000_000)

    def refresh(self) -> None:
        self.refreshed += 1
        self.token = "new-token"


def test_token_refreshed_once_on_401(make_server) -> None:
    server = make_server(users=5, accepted_tokens={"new-token"})
    credential = RotatingCredential()
    body = _get(server, RetryPolicy(base_delay=0.01), "/users?$top=2", credential=credential)
    assert len(body["value"]) == 2 and credential.refreshed == 1
    server2 = make_server(users=5, accepted_tokens={"never"})
    credential = RotatingCredential()
    with pytest.raises(CollectionError, match="refused the access token"):
        _get(server2, RetryPolicy(base_delay=0.01), "/users", credential=credential)
    assert credential.refreshed == 1 and server2.graph.requests["/users"] == 2


def test_budget_exhausted_before_a_request(make_server) -> None:
    server = make_server(users=5)
    fake = FakeTime()
    policy = RetryPolicy(budget_seconds=10, clock=fake.clock, sleep=fake.sleep)
    fake.now = 11
    with pytest.raises(CollectionError, match="time budget of 10 s ran out"):
        _get(server, policy)
    assert server.graph.requests["/subscribedSkus"] == 0
