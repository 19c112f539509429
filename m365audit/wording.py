"""Words for counts in user-facing text: "1 day", "2 days", "1,204 seats" (never "1 days")."""

from __future__ import annotations


def plural(n: float, noun: str, nouns: str | None = None) -> str:
    """The count and the noun in the right number; ``nouns`` for irregular plurals."""
    word = noun if n == 1 else (nouns or noun + "s")
    amount = f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"
    return f"{amount} {word}"
