"""Where the SQL files and report templates live, installed or in a checkout.

The wheel carries ``queries/``, ``reports/`` and ``examples/policies/`` inside the package; an
editable install or a checkout finds them at the top of the repository.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    """Return the directory ``name`` ("queries", "reports" or "examples")."""
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the m365audit installation is missing its {name}/ folder")


def queries_dir() -> Path:
    return resource_dir("queries")


def reports_dir() -> Path:
    return resource_dir("reports")


def example_policy(name: str) -> Path:
    """One of the example policy files, e.g. ``example_policy("borough-council")``."""
    return resource_dir("examples") / "policies" / f"{name}.toml"


def read_query(relative: str) -> str:
    """Text of one SQL file, e.g. ``read_query("views/licences.sql")``."""
    return (queries_dir() / relative).read_text(encoding="utf-8")
