"""Reading Graph's answers: error bodies into one-sentence errors, Retry-After, transport failures.

Every message names the path without its query (query strings can carry
tokens) and, for a 403, the permission to grant.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import orjson

from m365audit.errors import CollectionError
from m365audit.permissions import permission_for


class GraphResponseError(CollectionError):
    """Graph answered with an error status after retries."""

    def __init__(self, message: str, status: int, code: str | None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail  # "400 BadRequest: <Graph's own message>", as shown in ``message``


def is_json(body: bytes) -> bool:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True


def url_path(url: str) -> str:
    """The path of a URL without its query: query strings can carry tokens."""
    parts = urlsplit(url)
    path = parts.path
    for version in ("/v1.0", "/beta"):
        if path.startswith(version + "/"):
            return path[len(version):]
    return path


def retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def error_from_response(response: httpx.Response, url: str) -> GraphResponseError:
    status = response.status_code
    code = None
    message = ""
    try:
        error = orjson.loads(response.content).get("error", {})
        code = error.get("code")
        message = (error.get("message") or "").strip()
    except (orjson.JSONDecodeError, AttributeError):
        pass
    path = url_path(url)
    detail = f"{status} {code}" if code else str(status)
    if message:
        detail += f": {message.splitlines()[0][:200]}"
    if status == 401:
        text = (f"Microsoft Graph refused the access token ({detail}). Check that the token or "
                "credential is for this tenant and has not expired.")
    elif status == 403:
        permission = permission_for(path)
        need = (f" The app registration needs the application permission {permission}, with admin consent."
                if permission else "")
        text = f"Microsoft Graph denied access to {path} ({detail}).{need}"
    elif status == 404:
        text = f"Microsoft Graph has no {path} at {urlsplit(url).netloc} ({detail}); check --graph-url."
    else:
        text = f"Microsoft Graph answered {path} with an error ({detail})."
    return GraphResponseError(text, status, code, detail)


def describe_transport(exc: Exception) -> str:
    import errno
    import socket

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "the connection was reset"
        cause = cause.__cause__ or cause.__context__
    text = str(exc).strip() or type(exc).__name__
    lowered = text.lower()
    if "connection refused" in lowered or "connect call failed" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "name resolution" in lowered:
        return "the host name does not resolve"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return text.splitlines()[0][:200]


def describe_auth_failure(exc: Exception) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    return f"Could not get an access token for Microsoft Graph: {text}"
