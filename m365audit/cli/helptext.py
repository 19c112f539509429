"""How --help reads: no type label on flags.

typer 0.29 labels every option with its type, flags included (``--force <bool>``), though a
flag takes no value. Flags show no label here. Help text itself is rendered as Rich markup,
so a literal ``[`` in help (``[costs]``, ``[database] path``) is written ``\\[``;
tests/cli/test_help.py renders every command's help and fails when a bracket is lost.
"""

from __future__ import annotations

from typing import Any


def unlabelled_flags() -> None:
    """Make typer show no type label for flags (applied once, before the first --help)."""
    from typer.core import TyperOption

    original = TyperOption.display_type_rich
    if getattr(original, "m365audit_flags", False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else original(self, ctx)

    display_type_rich.m365audit_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
