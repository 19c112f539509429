"""Rendering a check run: JSON (a fixed shape scripts rely on), CSV and a terminal table.

Every format renders the same Finding records. Subjects and details are
tenant-controlled text (names, file names, URLs): CSV cells are neutralised
against formula injection and terminal text is stripped of control sequences
and never parsed as rich markup.
"""

from __future__ import annotations

from datetime import date
from typing import IO, Any

from m365audit.checks.catalogue import SEVERITIES
from m365audit.checks.model import CheckResult, CheckRun, Finding
from m365audit.csv_output import write_rows
from m365audit.report.safety import terminal_text
from m365audit.wording import plural

CSV_COLUMNS = ("checked_at", "check_id", "title", "severity", "status", "subject", "detail", "excepted",
               "exception_reason", "exception_until", "change", "scope", "policy")


def ordered_findings(run: CheckRun) -> list[Finding]:
    """Most severe first, then by check and subject."""
    return sorted(run.findings, key=lambda f: (-SEVERITIES.index(f.severity), f.check_id, f.subject or ""))


def as_json(run: CheckRun) -> dict[str, Any]:
    return {
        "checked_at": run.checked_at.isoformat(),
        "policy": run.policy.name,
        "policy_file": run.policy.source,
        "policy_sha256": run.policy.sha256,
        "scope": run.scope_text,
        "checks": [{"check_id": r.check.id, "title": r.check.title, "severity": r.check.severity,
                    "status": r.status, "failures": r.failures, "reason": r.reason} for r in run.results],
        "findings": [{"check_id": f.check_id, "severity": f.severity, "subject": f.subject, "detail": f.detail,
                      "excepted": f.excepted, "exception_reason": f.exception_reason,
                      "exception_until": _day(f.exception_until) or None, "change": f.change}
                     for f in ordered_findings(run)],
        "fixed": [{"check_id": check_id, "subject": subject} for check_id, subject in run.fixed],
    }


def write_csv(run: CheckRun, out: IO[str]) -> None:
    """One row per record (failing subject, or a check that passed or did not run), then fixed findings."""
    titles = {r.check.id: r.check.title for r in run.results}
    statuses = {r.check.id: r.status for r in run.results}
    when = run.checked_at.isoformat()
    policy = run.policy.described
    rows: list[list[Any]] = [[when, r.check_id, titles[r.check_id], r.severity, r.status, r.subject, r.detail,
                              _flag(r.excepted) if r.status == "fail" else "", r.exception_reason or "",
                              _day(r.exception_until), r.change or "", run.scope_text, policy]
                             for r in run.records]
    severities = {r.check.id: r.check.severity for r in run.results}
    rows += [[when, check_id, titles[check_id], severities[check_id], statuses[check_id], subject,
              "no longer found", "", "", "", "fixed", run.scope_text, policy] for check_id, subject in run.fixed]
    write_rows(out, CSV_COLUMNS, rows)


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _flag(value: bool) -> str:
    return "true" if value else "false"


def summary_line(run: CheckRun) -> str:
    counts = {s: sum(1 for r in run.results if r.status == s) for s in ("pass", "fail", "not_checked")}
    findings = run.findings
    new = sum(1 for f in findings if f.change == "new")
    excepted = sum(1 for f in findings if f.excepted)
    return (f"{plural(len(run.results), 'check')}: {counts['pass']} pass, {counts['fail']} fail, "
            f"{counts['not_checked']} not checked. {plural(len(findings), 'finding')} ({new} new, {excepted} muted); "
            f"{len(run.fixed)} fixed since the last run.")


def print_table(run: CheckRun, out: IO[str] | None = None) -> None:
    """Checks at a glance, then each failing check's findings (new ones marked), then what was fixed."""
    from rich.console import Console

    console = Console(file=out, highlight=False)
    console.print(_checks_table(run))
    skipped = [r for r in run.results if r.status == "not_checked"]
    if skipped:
        console.print(_not_checked_table(skipped))
    for result in sorted((r for r in run.results if r.findings), key=lambda r: (-r.check.rank, r.check.id)):
        console.print(_findings_table(result))
    if run.fixed:
        console.print(_fixed_table(run))
    console.print(summary_line(run), markup=False)


_STATUS_STYLE = {"pass": "green", "fail": "bold red", "not_checked": "yellow"}


def _checks_table(run: CheckRun) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(f"Policy checks: {terminal_text(run.policy.described)}, as of {run.check_date:%Y-%m-%d}, "
                             f"for {terminal_text(run.scope_text)}"),
                  box=box.SIMPLE_HEAD)
    table.add_column("Check", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Result")
    for r in run.results:
        table.add_row(r.check.id, r.check.severity, Text(_result(r), style=_STATUS_STYLE[r.status]))
    return table


def _result(r: CheckResult) -> str:
    excepted = len(r.findings) - r.failures
    text = {"pass": "pass", "fail": f"fail: {plural(r.failures, 'finding')}", "not_checked": "not checked"}[r.status]
    return text + (f" (+{excepted} muted)" if excepted else "")


def _not_checked_table(results: list[CheckResult]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text("Not checked: the data these checks need is missing", style="yellow"),
                  title_justify="left", expand=True)
    table.add_column("Check", no_wrap=True)
    table.add_column("Why")
    for r in results:
        table.add_row(r.check.id, Text(terminal_text(r.reason)))
    return table


def _findings_table(result: CheckResult) -> Any:
    from rich.table import Table
    from rich.text import Text

    check = result.check
    table = Table(title=Text(f"{check.id} ({check.severity}): {check.title}", style="bold"),
                  title_justify="left", expand=True)
    table.add_column("Change", no_wrap=True)
    table.add_column("Subject", ratio=2, overflow="fold")
    table.add_column("Detail", ratio=3, overflow="fold")
    table.add_column("Muted", ratio=1)
    for f in sorted(result.findings, key=lambda f: f.subject or ""):
        change = Text("NEW", style="bold") if f.change == "new" else Text(f.change or "")
        until = f" (until {f.exception_until:%Y-%m-%d})" if f.exception_until else ""
        excepted = Text(terminal_text(f"muted: {f.exception_reason}{until}")) if f.excepted else Text("")
        table.add_row(change, Text(terminal_text(f.subject)), Text(terminal_text(f.detail)), excepted)
    return table


def _fixed_table(run: CheckRun) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Fixed since the last run", title_justify="left")
    table.add_column("Check", no_wrap=True)
    table.add_column("Subject", overflow="fold")
    for check_id, subject in run.fixed:
        table.add_row(check_id, Text(terminal_text(subject)))
    return table
