"""`m365audit import`: files exported from Microsoft 365, for organisations without an app registration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from m365audit.cli.common import DEFAULT_DB, DbPath, ProgressMode, echo_json

FormatOption = Annotated[str, typer.Option("--format", help="text or json.")]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Import files exported from Microsoft 365 (Purview audit search, usage reports).",
                        no_args_is_help=True)
    app.add_typer(group, name="import")

    @group.command("purview-audit")
    def purview_audit(
        file: Annotated[Path, typer.Argument(help="The CSV exported from Purview audit search.", dir_okay=False)],
        db: DbPath = DEFAULT_DB,
        skip_bad_rows: Annotated[bool, typer.Option(
            "--skip-bad-rows", help="Import the good rows and write the bad ones to the reject file.")] = False,
        reject_file: Annotated[Path | None, typer.Option(
            "--reject-file", help="Where --skip-bad-rows writes bad rows (default: ./<name>.rejected.csv).",
            dir_okay=False)] = None,
        format: FormatOption = "text",
        force: Annotated[bool, typer.Option(
            "--force", help="Let --reject-file replace an existing file that is not an earlier reject file.")] = False,
        progress: ProgressMode = "auto",
    ) -> None:
        """Import a Purview audit search CSV export (Copilot and other AI interaction records)."""
        from m365audit.progress import progress_for
        from m365audit.store.imports import import_purview_audit

        _check_format(format)
        with progress_for("import", progress) as shown:
            summary = import_purview_audit(db, file, skip_bad_rows=skip_bad_rows, reject_file=reject_file,
                                           force=force, progress=shown.within(file=file.name))
        _show(summary.as_dict(), format, _purview_text)

    @group.command("usage-report")
    def usage_report(
        file: Annotated[Path, typer.Argument(help="The Copilot usage CSV exported from the Microsoft 365 "
                                                  "admin centre.", dir_okay=False)],
        db: DbPath = DEFAULT_DB,
        format: FormatOption = "text",
        progress: ProgressMode = "auto",
    ) -> None:
        """Import the admin centre's Microsoft 365 Copilot usage report (per-user activity by app, v1 or v2).

        A report older than the one stored is not imported (the newer one is kept; exit 0, and it
        says so). In a database collected for a --scope, only rows of the scope's users are
        imported, and the output says how many were dropped.
        """
        from m365audit.progress import progress_for
        from m365audit.store.imports import import_usage_report

        _check_format(format)
        with progress_for("import", progress) as shown:
            summary = import_usage_report(db, file, progress=shown.within(file=file.name))
        _show(summary.as_dict(), format, _usage_text)


def _check_format(value: str) -> None:
    if value not in ("text", "json"):
        from m365audit.errors import UsageError

        raise UsageError(f"--format {value!r} must be text or json.")


def _show(summary: dict[str, Any], format: str, text: Any) -> None:
    if format == "json":
        echo_json(summary)
        return
    typer.echo(text(summary))
    for notice in summary.get("notices") or []:
        typer.echo(f"Note: {notice}", err=True)


def _purview_text(s: dict[str, Any]) -> str:
    parts = [f"{s['already_present']:,} already in the database"]
    if s["skipped_rows"]:
        kinds = ", ".join(f"{name}: {n:,}" for name, n in sorted(s["skipped_record_types"].items()))
        parts.append(f"{s['skipped_rows']:,} rows of record types m365audit does not audit skipped ({kinds})")
    if s["bad_rows"]:
        parts.append(f"{s['bad_rows']:,} bad rows written to {s['reject_file']}")
    if s["scope"]:
        parts.append(f"{s['out_of_scope']:,} rows of users outside the database's scope ({s['scope']}) "
                     "dropped, not imported")
    return f"Imported {s['imported']:,} AI interaction records from {Path(s['file']).name} ({'; '.join(parts)})."


def _usage_text(s: dict[str, Any]) -> str:
    usage = s["usage_report"]
    name = Path(s["file"]).name
    if usage["newer_report_kept"]:
        return (f"Imported nothing from {name}: its Report Refresh Date {usage['report_refresh_date']} is older "
                f"than the stored report's ({usage['newer_report_kept']}), which was kept.")
    parts = []
    if usage["duplicates"]:
        parts.append(f"{usage['duplicates']:,} repeated rows imported once")
    dropped = usage["dropped_out_of_scope"] + usage["dropped_concealed"]
    if dropped:
        parts.append(f"{dropped:,} rows outside the database's scope dropped")
    more = f" ({'; '.join(parts)})" if parts else ""
    return f"Imported {s['imported']:,} usage report rows from {name}{more}."
