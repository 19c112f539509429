"""The M365AUDIT_* variables are declared once (m365audit/environment.py), documented in one
table (docs/environment.md), and read by product code only through that module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from m365audit import environment
from m365audit.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "environment.md"
PACKAGE = ROOT / "m365audit"
_ROW = re.compile(r"^\| `(M365AUDIT_[A-Z_]+)` \| [^|]+ \| ([^|]+) \| ([^|]+) \|$", re.MULTILINE)
# The simulated tenant keeps its own settings; the declarations are the one other place that names them.
EXEMPT = {PACKAGE / "environment.py", PACKAGE / "simulator"}


def documented() -> dict[str, tuple[str, str]]:
    return {name: (default.strip(), meaning.strip()) for name, default, meaning in _ROW.findall(DOC.read_text())}


def test_the_table_lists_exactly_the_declared_variables() -> None:
    rows = documented()
    assert list(rows) == [v.name for v in environment.VARIABLES]
    for variable in environment.VARIABLES:
        assert rows[variable.name] == (variable.default, variable.meaning), variable.name


def test_the_readme_links_the_table() -> None:
    assert "docs/environment.md" in (ROOT / "README.md").read_text()


def _product_modules() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py"))
            if not any(path == exempt or exempt in path.parents for exempt in EXEMPT)]


def direct_reads(path: Path) -> list[str]:
    """Where a module names an M365AUDIT_* variable in code: a string that is exactly such a name, as in
    os.environ.get("M365AUDIT_X") or envvar="M365AUDIT_X". Text that mentions a variable inside a
    sentence (help, docstrings, messages) is fine."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and re.fullmatch(r"M365AUDIT_[A-Z0-9_]+", node.value):
            found.append(f"{path.name}:{node.lineno}: {node.value}")
    return found


def test_no_product_module_reads_an_m365audit_variable_directly() -> None:
    modules = _product_modules()
    assert len(modules) > 100  # the scan sees the package
    assert [hit for path in modules for hit in direct_reads(path)] == []


def test_the_scan_finds_a_direct_read(tmp_path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('"""Mentions M365AUDIT_DB_WAIT in prose."""\nimport os\n\n'
                   'wait = os.environ.get("M365AUDIT_DB_WAIT")\n', encoding="utf-8")
    assert direct_reads(bad) == ["bad.py:4: M365AUDIT_DB_WAIT"]


def test_a_bad_value_is_one_sentence_naming_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("M365AUDIT_DB_WAIT", "soon")
    with pytest.raises(UsageError, match=r"^M365AUDIT_DB_WAIT='soon' is not a number of seconds\.$"):
        environment.DB_WAIT.read()
    monkeypatch.setenv("M365AUDIT_MAX_ATTEMPTS", "0")
    with pytest.raises(UsageError, match=r"^M365AUDIT_MAX_ATTEMPTS='0' must be between 1 and 100\.$"):
        environment.MAX_ATTEMPTS.read()
    monkeypatch.setenv("M365AUDIT_MAX_ATTEMPTS", " 3 ")
    assert environment.MAX_ATTEMPTS.read() == 3
    monkeypatch.delenv("M365AUDIT_MAX_ATTEMPTS")
    assert environment.MAX_ATTEMPTS.read() is None


TEST_HOOKS = {"NOW", "MAX_ATTEMPTS", "RETRY_BASE_DELAY"}


def test_the_test_hooks_are_read_by_the_command_line_only() -> None:
    """The clock and the retry tuning are injected (`now=`, `retry=`, `policy=`): below cli/ nothing reads them."""
    readers = set()
    for path in _product_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in TEST_HOOKS \
                    and isinstance(node.value, ast.Name) and node.value.id == "environment":
                readers.add(str(path.relative_to(PACKAGE)))
    assert readers == {"cli/run.py"}
