"""The simulated tenant's sendMail: accepts mail as Exchange Online would and keeps it for tests.

``POST /users/{id or UPN}/sendMail`` answers 202 with no body. The sender must
be a user of the tenant or an address in its domain (a service mailbox);
the message must have recipients, a subject and a body, and attachments
must be file attachments with base64 content. Accepted messages are kept in
``outbox(tenant)`` in the order received.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from typing import Any

from m365audit.simulator.http import GraphHttpError, Request, Response, Router
from m365audit.simulator.tenant import Tenant, stable_uuid

MAX_REQUEST_BYTES = 4 * 1024 * 1024
_LOCK = threading.Lock()


def outbox(tenant: Tenant) -> list[dict[str, Any]]:
    """Messages accepted so far: {"sender", "message"} dicts."""
    box: list[dict[str, Any]] = tenant.__dict__.setdefault("sent_mail", [])
    return box


def _sender_known(tenant: Tenant, sender: str) -> bool:
    if "@" in sender:
        return sender.lower().endswith("@" + tenant.config.domain.lower())
    return any(u.id == sender for u in tenant.iter_users())


def _invalid(message: str) -> GraphHttpError:
    return GraphHttpError(400, "ErrorInvalidRecipients" if "recipient" in message else "BadRequest", message)


def _check(message: Any) -> None:
    if not isinstance(message, dict):
        raise _invalid("The message is missing.")
    recipients = message.get("toRecipients")
    if not isinstance(recipients, list) or not recipients:
        raise _invalid("At least one recipient is not valid.")
    for recipient in recipients:
        address = (recipient.get("emailAddress") or {}).get("address") if isinstance(recipient, dict) else None
        if not isinstance(address, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
            raise _invalid("At least one recipient is not valid.")
    body = message.get("body")
    if not isinstance(body, dict) or body.get("contentType", "").lower() not in ("text", "html"):
        raise _invalid("The message body must have a contentType of Text or HTML.")
    for attachment in message.get("attachments") or []:
        _check_attachment(attachment)


def _check_attachment(attachment: Any) -> None:
    if not isinstance(attachment, dict) or attachment.get("@odata.type") != "#microsoft.graph.fileAttachment":
        raise _invalid("Only file attachments are supported.")
    if not attachment.get("name"):
        raise _invalid("An attachment needs a name.")
    try:
        base64.b64decode(attachment.get("contentBytes") or "", validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("An attachment's contentBytes is not base64.") from None


def register(router: Router, tenant: Tenant) -> None:
    def send_mail(request: Request, match: re.Match[str]) -> Response:
        sender = match.group(1)
        if len(request.body) > MAX_REQUEST_BYTES:
            raise GraphHttpError(413, "RequestEntityTooLarge", "The request is larger than 4 MB.")
        if not _sender_known(tenant, sender):
            raise GraphHttpError(404, "ErrorInvalidUser", f"The requested user '{sender}' is invalid.")
        payload = request.json()
        message = payload.get("message") if isinstance(payload, dict) else None
        _check(message)
        with _LOCK:
            outbox(tenant).append({"sender": sender, "message": message})
        return Response(202, b"", {})

    def mailbox(request: Request, match: re.Match[str]) -> Response:
        # Looking up one user or mailbox (`doctor` checks the service mailbox exists).
        key = match.group(1)
        if not _sender_known(tenant, key):
            raise GraphHttpError(404, "Request_ResourceNotFound", f"Resource '{key}' does not exist.")
        user_id = key if "@" not in key else stable_uuid(tenant.seed, "mailbox", key.lower())
        return Response.json({"@odata.context": f"{request.root}/$metadata#users/$entity", "id": user_id})

    router.add("POST", r"/users/([^/]+)/sendMail", send_mail)
    router.add("GET", r"/users/([^/]+)", mailbox)
