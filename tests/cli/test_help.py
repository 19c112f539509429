"""Every command's --help renders whole: no bracketed text lost to Rich markup, no type label on flags."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from m365audit.cli.app import app

ROOT = typer.main.get_command(app)
COMMANDS = sorted(ROOT.commands)  # type: ignore[attr-defined]


def _render(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"}, terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def _flat(text: str) -> str:
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def _source_help(text: str) -> str:
    return " ".join(text.replace("\\[", "[").split())


def test_there_are_commands() -> None:
    assert {"check", "collect", "demo", "foi", "report", "run"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_help_is_shown_whole(name: str) -> None:
    command = ROOT.commands[name]  # type: ignore[attr-defined]
    shown = _flat(_render(name))
    for param in command.params:
        help_text = getattr(param, "help", None)
        if help_text:
            assert _source_help(help_text) in shown, (name, param.name)
        for opt in param.opts:
            assert opt in shown, (name, opt)
    assert "<bool>" not in shown


def test_bracketed_keys_survive() -> None:
    assert "prices ([costs])" in _flat(_render("report"))
    assert "overrides [database] path" in _flat(_render("run"))
