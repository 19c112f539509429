"""Counts read as English: "1 day", "2 days", never "1 days" or "day(s)"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from m365audit.wording import plural

PACKAGE = Path(__file__).resolve().parent.parent / "m365audit"


@pytest.mark.parametrize(("n", "noun", "expected"), [
    (0, "day", "0 days"), (1, "day", "1 day"), (2, "day", "2 days"), (1, "licence snapshot", "1 licence snapshot"),
    (3, "licence snapshot", "3 licence snapshots"), (1204, "seat", "1,204 seats"), (1.0, "finding", "1 finding"),
])
def test_plural(n: float, noun: str, expected: str) -> None:
    assert plural(n, noun) == expected


def test_no_user_facing_text_counts_with_a_fixed_plural() -> None:
    """An f-string putting a number before "days", "snapshots" ... or "(s)" is a sentence that says "1 days".

    A CONSTANT (always more than one) is fine."""
    fixed = re.compile(r"\{(?![A-Z_]+\})[^{}]*\} (days|snapshots|findings|checks|warnings)\b"
                       r"|(finding|count|warning|day|snapshot|record|seat|user|row|file|folder|group|error|run)\(s\)")
    offenders = [f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
                 for path in sorted(PACKAGE.rglob("*.py")) if "simulator" not in path.parts
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if fixed.search(line) and not line.lstrip().startswith("#")]
    assert offenders == []
