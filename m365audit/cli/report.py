"""`m365audit report`: the manager report (HTML, Excel, CSV) from the DuckDB file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from m365audit import environment
from m365audit.cli.common import DEFAULT_DB, DbPath, ProgressMode

DEFAULT_OUT = Path("m365audit-report")
PSEUDONYMISE_HELP = ("Replace names and addresses with stable keyed pseudonyms (key from M365AUDIT_PSEUDONYM_KEY "
                     "or the file named by M365AUDIT_PSEUDONYM_KEY_FILE, kept outside the report folder).")


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        db: DbPath = DEFAULT_DB,
        out: Annotated[Path, typer.Option("--out", help="Folder for the report files (created if missing).",
                                          file_okay=False)] = DEFAULT_OUT,
        format: Annotated[str, typer.Option("--format", help="Comma-separated: html, xlsx, csv.")] = "html,xlsx,csv",
        pseudonymise: Annotated[bool, typer.Option("--pseudonymise", help=PSEUDONYMISE_HELP)] = False,
        department: Annotated[str | None, typer.Option("--department", help="Report on one department only.")] = None,
        policy: Annotated[Path | None, typer.Option(
            "--policy", envvar=environment.POLICY.name, dir_okay=False,
            help="The organisation's policy file: its checks, prices (\\[costs]) and idle threshold. The report "
                 "shows the results of this policy, running the checks when the stored ones judged another.")] = None,
        replace: Annotated[bool, typer.Option(
            "--replace", help="Write into a folder that holds files m365audit did not write (its report "
                              "files are replaced; other files are left alone).")] = False,
        progress: ProgressMode = "auto",
    ) -> None:
        """Write the manager report: seats, cost of idle seats, adoption by app, labels, compliance, provenance."""
        from m365audit.checks.catalogue import check_ids
        from m365audit.policy import Policy, load_policy
        from m365audit.progress import progress_for
        from m365audit.report.manager import STEPS, parse_formats, write_reports

        formats = parse_formats(format)
        loaded = load_policy(policy, check_ids()) if policy else Policy()
        with progress_for("report", progress) as shown, shown.steps("report", STEPS + len(formats)) as step:
            paths = write_reports(db=db, out=out, formats=formats, policy=loaded, pseudonymise=pseudonymise,
                                  department=department, progress=step, replace=replace)
        for path in paths:
            typer.echo(str(path))
        typer.echo(f"Report written to {out}.", err=True)
