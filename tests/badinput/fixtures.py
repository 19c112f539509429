"""A small collected database and a Purview export, shared by the bad-input tests."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.conftest import ANCHOR, collect_from
from tests.store.purview_files import write_export

RECORD: dict[str, Any] = {
    "Id": "0f1e2d3c-4b5a-4968-8776-655443322110", "CreationTime": "2026-10-30T09:15:00",
    "RecordType": 261, "Operation": "CopilotInteraction", "UserId": "ada@contoso.example",
    "Workload": "Copilot", "UserKey": "a1", "UserType": 0, "Version": 1,
    "OrganizationId": "d1e2f3a4-0000-4000-8000-000000000001",
    "CopilotEventData": {"AppHost": "Word", "Contexts": [], "AccessedResources": [], "Messages": []},
}


def build_database(folder: Path) -> Path:
    """Two licence snapshots from a 120-user simulated tenant (enough for foi, report, check, export)."""
    from m365audit.simulator import SimulatorServer, Tenant, TenantConfig

    path = folder / "base.duckdb"
    with SimulatorServer(Tenant(TenantConfig(users=120, seed=5, anchor=ANCHOR))) as server:
        collect_from(server, path, now=ANCHOR - timedelta(days=10))
        collect_from(server, path, now=ANCHOR)
    return path


def copy_database(base: Path, folder: Path, name: str = "t.duckdb") -> Path:
    target = folder / name
    shutil.copyfile(base, target)
    return target


def purview_export(path: Path, records: list[dict[str, Any] | str] | None = None) -> Path:
    return write_export(path, records if records is not None else [RECORD])


def tables_digest(db: Path) -> dict[str, int]:
    """Every base table's row count and a hash of its contents: equal before and after means unchanged."""
    import duckdb

    if not db.exists():
        return {}
    out: dict[str, int] = {}
    with duckdb.connect(str(db), read_only=True, config={"autoload_known_extensions": False}) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
                                           "ORDER BY 1").fetchall()]
        for name in names:
            row = con.execute(f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{name}" t').fetchone()
            out[name] = hash(row)
    return out


def cli_bytes(*args: str) -> tuple[int, bytes, str]:
    """Run the CLI and keep standard output as bytes (run_cli's text mode turns CRLF into LF)."""
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "m365audit", *args], capture_output=True,
                          env={k: v for k, v in os.environ.items() if k != "M365AUDIT_DEBUG"},
                          stdin=subprocess.DEVNULL, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")
