"""The simulated tenant's HTTP server (stdlib ThreadingHTTPServer, loopback only)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from m365audit.simulator import audit, directory, labels, mail, reports
from m365audit.simulator.http import (
    GraphHttpError,
    Request,
    Response,
    Router,
    error_body,
    parse_request_target,
)
from m365audit.simulator.tenant import Tenant, TenantConfig

# A hook may answer a request itself (fault injection); it returns None to pass.
RequestHook = Callable[[Request], Response | None]


class SimulatedGraph:
    """Tenant + routes + the token it accepts. Kept apart from the socket for testing."""

    def __init__(self, tenant: Tenant, *, accepted_tokens: set[str] | None = None) -> None:
        self.tenant = tenant
        self.accepted_tokens = accepted_tokens  # None = any bearer token
        self.router = Router()
        self.hooks: list[RequestHook] = []
        self.requests: Counter[str] = Counter()  # path -> count, for tests
        self.versioned_requests: Counter[tuple[str, str, str]] = Counter()  # (method, version, path) -> count
        self._lock = threading.Lock()
        for routes in (directory, audit, reports, labels, mail):
            routes.register(self.router, tenant)

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.requests[request.path] += 1
            self.versioned_requests[request.method, request.version, request.path] += 1
        for hook in self.hooks:
            answer = hook(request)
            if answer is not None:
                return answer
        if self.router.is_anonymous(request):
            return self.router.dispatch(request)
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise GraphHttpError(401, "InvalidAuthenticationToken", "Access token is empty.")
        if self.accepted_tokens is not None and auth[7:].strip() not in self.accepted_tokens:
            raise GraphHttpError(401, "InvalidAuthenticationToken",
                                 "Access token validation failure. Invalid audience.")
        return self.router.dispatch(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Graph does
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # quiet: tenant data must not reach logs

    def _serve(self) -> None:
        graph = self.server.graph
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            version, path, query = parse_request_target(self.path)
            address, port = self.server.server_address[:2]
            host = f"http://{address!s}:{port}"
            request = Request(self.command, path, version, query,
                              {k.lower(): v for k, v in self.headers.items()}, body, host)
            response = graph.handle(request)
        except GraphHttpError as exc:
            response = Response(exc.status, error_body(exc.code, exc.message),
                                {"Content-Type": "application/json", **exc.headers})
        except Exception as exc:  # a bug in the simulator: answer like Graph's 500
            response = Response(500, error_body("InternalServerError", f"{type(exc).__name__}: {exc}"),
                                {"Content-Type": "application/json"})
        if response.status == -1:  # a hook that already wrote (or cut) the connection
            self.close_connection = True
            return
        self.send_response(response.status)
        rid = str(uuid.uuid4())
        headers = {"request-id": rid, "client-request-id": self.headers.get("client-request-id", rid),
                   "Date": format_datetime(datetime.now(UTC), usegmt=True), **response.headers}
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.cut_after is not None:
            self._reset_after(response.body[:response.cut_after])
        elif self.command != "HEAD":
            self.wfile.write(response.body)

    def _reset_after(self, partial: bytes) -> None:
        """Send part of the body, then reset the connection (RST, not a clean close)."""
        import socket
        import struct

        self.wfile.write(partial)
        self.wfile.flush()
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    do_GET = _serve
    do_POST = _serve
    do_PATCH = _serve
    do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], graph: SimulatedGraph) -> None:
        self.graph = graph
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that hung up (or a fault we injected): not worth a traceback
        super().handle_error(request, client_address)


class SimulatorServer:
    """Run a SimulatedGraph on a loopback port in a background thread.

    >>> with SimulatorServer(Tenant(TenantConfig(users=50))) as server:
    ...     server.url  # doctest: +SKIP
    'http://127.0.0.1:54321/v1.0'
    """

    def __init__(self, tenant: Tenant | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 accepted_tokens: set[str] | None = None) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the simulated tenant listens on loopback only")
        self.graph = SimulatedGraph(tenant or Tenant(TenantConfig()), accepted_tokens=accepted_tokens)
        self._server = _Server((host, port), self.graph)
        self._thread: threading.Thread | None = None

    @property
    def tenant(self) -> Tenant:
        return self.graph.tenant

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/v1.0"

    def start(self) -> SimulatorServer:
        """Serve on a background thread; a server already started is left as it is (one loop per server:
        socketserver's shutdown() stops only one serve_forever)."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._thread = threading.Thread(target=self._server.serve_forever, name="m365audit-simulator",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def stop_serving(self) -> None:
        self._server.server_close()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
