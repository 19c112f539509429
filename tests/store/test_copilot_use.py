""""Used Copilot" has one definition (queries/views/025_copilot_use.sql) and nothing else re-derives it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from m365audit.store.db import open_db

ROOT = Path(__file__).resolve().parents[2]
DEFINING = {
    "queries/views/025_copilot_use.sql",  # copilot_use, ai_app_use, copilot_apps
    "m365audit/store/migrations/025_copilot_app_actor_agent.sql",  # app and actor_type, derived once
}
# Filters and lists that decide what counts as Copilot use: by record type, by actor or by host.
RE_DERIVING = (
    re.compile(r"record_type\s+(?:NOT\s+)?IN\s*\(", re.IGNORECASE),
    re.compile(r"record_type\s*(?:=|<>|!=)\s*'", re.IGNORECASE),
    re.compile(r"list_contains\([^)]*record_type", re.IGNORECASE),
    re.compile(r"actor_type\s*(?:NOT\s+)?(?:IN\s*\(|=|<>|!=)", re.IGNORECASE),
    re.compile(r"'(?:appchat|bizchat|webchat)'", re.IGNORECASE),
    re.compile(r"COPILOT_RECORD_TYPES"),
)


def _readers() -> list[Path]:
    """Every file that reads the database: SQL under queries/ and the package's Python, not the
    simulator (it writes records; it never decides what they mean)."""
    files = list((ROOT / "queries").rglob("*.sql")) + list((ROOT / "m365audit").rglob("*.py"))
    files += list((ROOT / "m365audit" / "store" / "migrations").glob("*.sql"))
    return sorted(f for f in files if "simulator" not in f.relative_to(ROOT).parts)


def _offences(text: str) -> list[str]:
    return [m.group(0) for pattern in RE_DERIVING for m in pattern.finditer(text)]


def test_nothing_outside_the_definition_re_derives_copilot_use() -> None:
    found = {}
    for path in _readers():
        name = path.relative_to(ROOT).as_posix()
        if name in DEFINING:
            continue
        offences = _offences(path.read_text(encoding="utf-8"))
        if offences:
            found[name] = offences
    assert found == {}, "read the views copilot_use / ai_app_use instead of filtering again"


@pytest.mark.parametrize("text", [
    "SELECT count(*) FROM copilot_interactions WHERE record_type IN ('CopilotInteraction', 'TeamCopilotInteraction')",
    "WHERE created_at >= $from AND list_contains($types, record_type)",
    "INSERT INTO report_app_hosts VALUES ('bizchat', 'Copilot Chat'), ('appchat', 'Copilot Chat')",
    "WHERE i.actor_type IN ('person', 'admin')",
])
def test_the_guard_catches_the_old_ways(text: str) -> None:
    assert _offences(text)


def test_the_definition_is_where_the_guard_says(tmp_path: Path) -> None:
    for name in DEFINING:
        assert _offences((ROOT / name).read_text(encoding="utf-8")), name
    with open_db(tmp_path / "d.duckdb") as con:
        apps = con.execute("SELECT app, product, counts_as_use FROM copilot_apps ORDER BY ord").fetchall()
    assert [a for a, _, use in apps if not use] == ["Copilot Studio agent", "Security Copilot"]
    assert {p for _, p, use in apps if use} == {"Microsoft 365 Copilot", "Copilot Chat"}
