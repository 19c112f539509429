"""Delivery: the report summary (and workbook) mailed through Graph sendMail to the simulated tenant."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import httpx

from m365audit.ops.config import EmailSettings, RunConfig
from m365audit.ops.delivery import build_message
from m365audit.simulator.mail import outbox
from tests.ops.runhelp import run, steps, write_config

EMAIL = """
[email]
from = "m365audit@example.gov.uk"
to = ["ict@example.gov.uk", "dpo@example.gov.uk"]
subject = "Copilot audit {date}"
attach_xlsx = false
"""


def test_run_mails_the_summary(make_server, tmp_path) -> None:
    server = make_server(users=200)
    result = run(write_config(tmp_path, server.url, EMAIL), env={"M365AUDIT_NOW": "2026-11-02T02:00:00Z"})
    assert result.code == 0, result.stderr
    assert steps(result)["email"]["counts"] == {"recipients": 2, "attachments": 0}
    [sent] = outbox(server.tenant)
    assert sent["sender"] == "m365audit@example.gov.uk"
    message = sent["message"]
    assert message["subject"] == "Copilot audit 2026-11-02"
    assert [r["emailAddress"]["address"] for r in message["toRecipients"]] == ["ict@example.gov.uk",
                                                                               "dpo@example.gov.uk"]
    body = message["body"]["content"]
    expected = server.tenant.expected_licence_summary()["copilot"]
    assert f"<th>Purchased</th><td>{expected['purchased']:,}</td>" in body
    assert f"<th>Users holding a working seat</th><td>{expected['licensed_users']:,}</td>" in body
    assert "<td>collect</td><td>ok</td>" in body


def test_unknown_mailbox_fails_delivery_with_exit_3(make_server, tmp_path) -> None:
    server = make_server(users=30)
    config = write_config(tmp_path, server.url, EMAIL.replace("m365audit@example.gov.uk", "x@elsewhere.org"))
    result = run(config)
    assert result.code == 3
    email = steps(result)["email"]
    assert email["status"] == "failed" and "the report was not sent" in email["message"]
    assert "ErrorInvalidUser" in email["message"] and outbox(server.tenant) == []


def _config(name: str) -> RunConfig:
    return RunConfig(tenant_name=name, email=EmailSettings("svc@example.gov.uk", ("a@example.gov.uk",)))


def test_workbook_attached_and_text_escaped(tmp_path) -> None:
    workbook = tmp_path / "copilot-report.xlsx"
    workbook.write_bytes(b"PK\x03\x04 not really a workbook")
    config = _config("<script>alert(1)</script> Council")
    message = build_message(config, config.email, day=datetime(2026, 11, 2, tzinfo=UTC),
                            steps=[{"step": "collect", "status": "failed", "message": "<b>boom</b>"}],
                            licences=None, findings={"checks": 14, "failing_checks": 2, "not_checked": 1,
                                                     "by_severity": {"low": 0, "high": 3}},
                            workbook=workbook, report_folder=tmp_path)
    assert message["subject"] == "[action needed] Microsoft 365 Copilot audit 2026-11-02"
    body = message["body"]["content"]
    assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt; Council" in body
    assert "&lt;b&gt;boom&lt;/b&gt;" in body and "<th>High</th><td>3</td>" in body
    [attachment] = message["attachments"]
    assert attachment["name"] == "copilot-report.xlsx"
    assert base64.b64decode(attachment["contentBytes"]) == workbook.read_bytes()


def test_large_workbook_is_not_attached(tmp_path) -> None:
    workbook = tmp_path / "copilot-report.xlsx"
    workbook.write_bytes(b"x" * (3 * 1024 * 1024 + 1))
    config = _config("Council")
    message = build_message(config, config.email, day=datetime(2026, 11, 2, tzinfo=UTC), steps=[],
                            licences=None, findings=None, workbook=workbook, report_folder=Path("/srv/reports"))
    assert "attachments" not in message
    assert "too large to attach; it is in /srv/reports" in message["body"]["content"]


def test_simulated_send_mail_validates_like_graph(make_server) -> None:
    server = make_server(users=5)
    url = f"{server.url}/users/svc@example.gov.uk/sendMail"
    auth = {"Authorization": "Bearer x"}
    good = {"message": {"subject": "s", "body": {"contentType": "Text", "content": "hi"},
                        "toRecipients": [{"emailAddress": {"address": "a@example.gov.uk"}}]}}
    assert httpx.post(url, json=good, headers=auth).status_code == 202
    bad = {"message": {**good["message"], "toRecipients": []}}
    answer = httpx.post(url, json=bad, headers=auth)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "ErrorInvalidRecipients"
    assert len(outbox(server.tenant)) == 1
