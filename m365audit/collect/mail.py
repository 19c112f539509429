"""Sending mail through Graph ``POST /users/{id}/sendMail`` (application permission Mail.Send).

The nightly job mails its report from a service mailbox. Restrict the app's
Mail.Send to that one mailbox with an Exchange application access policy
(see docs/operations.md): by default Mail.Send lets an app send as anyone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from m365audit.collect.graph import GraphClient

# Graph refuses sendMail requests over about 4 MB; attachments bigger than
# this need an upload session on a draft, which the job does not do.
MAX_ATTACHMENT_BYTES = 3 * 1024 * 1024


async def send_mail(client: GraphClient, sender: str, message: dict[str, Any]) -> None:
    """Send ``message`` (a Graph message resource) from ``sender``; Graph answers 202."""
    await client.request("POST", f"/users/{quote(sender, safe='@')}/sendMail",
                         json_body={"message": message, "saveToSentItems": False})
