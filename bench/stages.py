"""The registry of benchmark stages. A stage module registers itself on import:

    @stage("audit-ingest")
    def run(size: Size) -> list[Row]: ...

Other stages (licence snapshot, Purview import, checks, reports) add modules
that do the same and list them in ``STAGE_MODULES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

STAGE_MODULES = ("bench.audit_ingest", "bench.licences", "bench.purview_import", "bench.reports", "bench.lakehouse")


@dataclass(frozen=True)
class Size:
    name: str  # smoke, small, medium, large
    records: int  # audit records to aim for
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    stage: str
    what: str
    records: int
    seconds: float
    peak_rss_mib: float | None = None
    db_mib: float | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


StageFn = Callable[[Size], list[Row]]
STAGES: dict[str, StageFn] = {}


def stage(name: str) -> Callable[[StageFn], StageFn]:
    def register(fn: StageFn) -> StageFn:
        STAGES[name] = fn
        return fn
    return register


def load_stages() -> dict[str, StageFn]:
    for module in STAGE_MODULES:
        importlib.import_module(module)
    return STAGES
