"""The simulated tenant's server: started once however often start() is called, stopped at once."""

from __future__ import annotations

import threading
import time

import httpx

from m365audit.simulator import SimulatorServer, Tenant, TenantConfig
from tests.conftest import ANCHOR


def _loops() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "m365audit-simulator" and t.is_alive())


def test_a_server_started_twice_serves_on_one_loop_and_stops_at_once() -> None:
    before = _loops()
    server = SimulatorServer(Tenant(TenantConfig(users=10, anchor=ANCHOR)))
    with server.start() as same:  # start(), then the context manager's start() again
        assert same is server and _loops() == before + 1
        assert httpx.get(f"{server.url}/users", headers={"Authorization": "Bearer t"}).status_code == 200
        stopping = time.monotonic()
    # socketserver's shutdown() stops one serve_forever loop; a second loop kept serving and stop() waited
    # out its join timeout.
    assert time.monotonic() - stopping < 2 and _loops() == before
