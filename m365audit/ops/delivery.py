"""Emailing the night's report: an HTML summary in the body, the Excel workbook attached.

The summary repeats what a manager looks for first (seats bought, assigned
and held, findings by severity, whether every step worked) and points to
the full report. Every value that comes from the tenant or the run is
escaped. A workbook too large for one Graph request is not attached; the
body says where it is instead.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from pathlib import Path
from typing import Any

from m365audit.ops.config import EmailSettings, RunConfig
from m365audit.report.safety import html_text
from m365audit.wording import plural

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def subject_line(settings: EmailSettings, day: datetime, failed: bool) -> str:
    # Plain replacement, not str.format: the subject is configuration text.
    text = settings.subject.replace("{date}", f"{day:%Y-%m-%d}")
    return f"[action needed] {text}" if failed else text


def build_message(config: RunConfig, settings: EmailSettings, *, day: datetime, steps: list[dict[str, Any]],
                  licences: dict[str, Any] | None, findings: dict[str, Any] | None,
                  workbook: Path | None, report_folder: Path | None) -> dict[str, Any]:
    """A Graph message resource: subject, HTML body, recipients, optional XLSX attachment."""
    failed = any(step["status"] == "failed" for step in steps)
    attachments, note = _attachments(workbook, report_folder, settings.attach_xlsx)
    body = _body(config, day, steps, licences, findings, note)
    message: dict[str, Any] = {
        "subject": subject_line(settings, day, failed),
        "body": {"contentType": "HTML", "content": body},
        "toRecipients": [{"emailAddress": {"address": a}} for a in settings.to],
    }
    if attachments:
        message["attachments"] = attachments
    return message


def send(config: RunConfig, credential: Any, message: dict[str, Any], policy: Any) -> None:
    """Send through Graph with the run's retry policy (whose time budget covers the whole run)."""
    from m365audit.collect.graph import GraphClient, parse_graph_url
    from m365audit.collect.mail import send_mail

    assert config.email is not None
    email = config.email

    async def go() -> None:
        async with GraphClient(credential, parse_graph_url(config.graph_url), policy=policy) as client:
            await send_mail(client, email.sender, message)

    asyncio.run(go())


def _attachments(workbook: Path | None, folder: Path | None, wanted: bool) -> tuple[list[dict[str, Any]], str]:
    from m365audit.collect.mail import MAX_ATTACHMENT_BYTES

    where = f" in {folder}" if folder else ""
    if not wanted:
        return [], f"The full report is{where}."
    if workbook is None or not workbook.is_file():
        return [], f"No Excel workbook was written tonight; see the report{where}."
    size = workbook.stat().st_size
    if size > MAX_ATTACHMENT_BYTES:
        return [], f"The Excel workbook ({size / 1e6:.1f} MB) is too large to attach; it is{where}."
    attachment = {"@odata.type": "#microsoft.graph.fileAttachment", "name": workbook.name,
                  "contentType": XLSX_TYPE, "contentBytes": base64.b64encode(workbook.read_bytes()).decode()}
    return [attachment], f"The Excel workbook is attached; the full report is{where}."


def _body(config: RunConfig, day: datetime, steps: list[dict[str, Any]], licences: dict[str, Any] | None,
          findings: dict[str, Any] | None, note: str) -> str:
    org = html_text(config.tenant_name or "your tenant")
    parts = [f"<h1>Microsoft 365 Copilot audit for {org}, {day:%d %B %Y}</h1>"]
    if licences:
        c = licences["copilot"]
        parts.append("<h2>Copilot seats</h2><table><tbody>"
                     + _row("Purchased", c["purchased"]) + _row("Assigned", c["assigned"])
                     + _row("Users holding a working seat", c["licensed_users"]) + "</tbody></table>")
    if findings:
        rows = "".join(_row(severity.capitalize(), n) for severity, n in findings.get("by_severity", {}).items())
        parts.append(f"<h2>Policy findings</h2><p>{html_text(findings.get('failing_checks', 0))} of "
                     f"{html_text(plural(findings.get('checks', 0), 'check'))} found problems; "
                     f"{html_text(findings.get('not_checked', 0))} could not be checked.</p>"
                     f"<table><tbody>{rows}</tbody></table>")
    step_rows = "".join(f"<tr><td>{html_text(s['step'])}</td><td>{html_text(s['status'])}</td>"
                        f"<td>{html_text(s.get('message') or '')}</td></tr>" for s in steps)
    parts.append("<h2>Tonight's run</h2><table><thead><tr><th>Step</th><th>Status</th><th>Note</th></tr>"
                 f"</thead><tbody>{step_rows}</tbody></table>")
    parts.append(f"<p>{html_text(note)}</p>")
    return "<html><body>" + "".join(parts) + "</body></html>"


def _row(label: str, value: Any) -> str:
    shown = f"{value:,}" if isinstance(value, int) else value
    return f"<tr><th>{html_text(label)}</th><td>{html_text(shown)}</td></tr>"
