"""`m365audit foi`: a ready, disclosure-controlled answer to an FOI request about AI."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from m365audit.checks.catalogue import check_ids
from m365audit.cli.common import DEFAULT_DB, DbPath
from m365audit.errors import UsageError

if TYPE_CHECKING:
    from m365audit.foi.answer import FoiOptions

FORMATS = ("md", "csv", "json", "docx")


def register(app: typer.Typer) -> None:
    @app.command()
    def foi(
        db: DbPath = DEFAULT_DB,
        as_of: Annotated[str | None, typer.Option(
            "--as-of", help="Answer as at the end of this date (YYYY-MM-DD, UTC); "
                            "default: the day of the latest snapshot.")] = None,
        years: Annotated[int, typer.Option(
            "--years", help="Financial years of expenditure, ending with the one containing --as-of.")] = 3,
        format: Annotated[str, typer.Option("--format", help="md, csv, json or docx (docx needs --out).")] = "md",
        out: Annotated[Path | None, typer.Option(
            "--out", help="Write the answer to this file (atomically) instead of standard output.",
            dir_okay=False)] = None,
        policy: Annotated[Path | None, typer.Option(
            "--policy", help="The organisation's policy file: prices, currency, suppression threshold "
                             "and financial year start. Without it: Microsoft's UK list prices (docs/foi.md).",
            dir_okay=False)] = None,
        lower_bound: Annotated[bool, typer.Option(
            "--lower-bound", help="For years before the first snapshot, give a reconstructed lower bound "
                                  "of expenditure (labelled) instead of only 'not held'.")] = False,
        force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
    ) -> None:
        """Answer an FOI request about AI: systems, licences, departments, cost by financial year.

        Small numbers are suppressed and no personal data is included; see docs/foi.md. The answer is
        plain text for the requester; how it was made and what to check goes to a separate note for the
        FOI officer (standard error, or FILE.officer-note.md beside --out FILE).
        """
        options = _parse(as_of, years, format, out, lower_bound)
        from m365audit.foi import build_answer, render
        from m365audit.foi.list_prices import default_policy
        from m365audit.foi.render import officer_note_text
        from m365audit.outputs import check_file, protected_paths, write_atomically
        from m365audit.policy import load_policy
        from m365audit.store.db import open_db

        if out is not None:
            check_file(out, option="--out", force=force, protected=protected_paths(db, [policy]))
        loaded = load_policy(policy, check_ids()) if policy is not None else default_policy()
        with open_db(db, read_only=True) as con:
            answer = build_answer(con, loaded, options)
        data = render(answer, format)
        note = officer_note_text(answer)
        if out is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            typer.echo(note, err=True)
        else:
            check_file(out, option="--out", force=force, protected=protected_paths(db, [policy]))
            write_atomically(out, data, option="--out")
            note_path = out.with_name(out.stem + ".officer-note.md")
            check_file(note_path, option="--out", force=True, protected=protected_paths(db, [policy]))
            write_atomically(note_path, note.encode("utf-8"), option="--out")
            typer.echo(f"Answer written to {out}; the note for the FOI officer (not for the requester) to "
                       f"{note_path}.", err=True)


def _parse(as_of: str | None, years: int, fmt: str, out: Path | None, lower_bound: bool) -> FoiOptions:
    from m365audit.foi.answer import FoiOptions

    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}.")
    if fmt == "docx" and out is None:
        raise UsageError("--format docx writes a Word file: pass --out FILE.docx.")
    if not 1 <= years <= 20:
        raise UsageError(f"--years must be between 1 and 20, not {years}.")
    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of.strip())
        except ValueError:
            raise UsageError(f"--as-of {as_of!r} is not a date such as 2026-03-31.") from None
        if day > datetime.now(UTC).date():
            raise UsageError(f"--as-of {day.isoformat()} is in the future; an FOI answer covers days that have passed.")
    return FoiOptions(as_of=day, years=years, lower_bound=lower_bound)
