"""Finding the later stages (checks, report, FOI) by import, and calling them defensively.

`run` chains stages that live in their own packages and may be absent from a
build (or written after this module). Each is resolved by import, like the
CLI's optional commands; a missing one is skipped with a clear log line.
A stage function receives only the keyword arguments its signature names,
so small signature differences between versions do not break the night.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StageSpec:
    name: str
    module: str
    functions: tuple[str, ...]  # tried in order


CHECKS = StageSpec("check", "m365audit.checks.runner", ("check_database", "run_checks"))
REPORT = StageSpec("report", "m365audit.report.manager", ("write_reports",))
FOI = StageSpec("foi", "m365audit.foi", ("build_answer",))
FOI_RENDER = StageSpec("foi", "m365audit.foi", ("render",))
FOI_OPTIONS = StageSpec("foi", "m365audit.foi", ("FoiOptions",))


def resolve(spec: StageSpec) -> Callable[..., Any] | None:
    """The stage's function, or None when its package is not part of this build."""
    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        if exc.name and spec.module.startswith(exc.name):
            return None
        raise
    for name in spec.functions:
        function = getattr(module, name, None)
        if callable(function):
            return function  # type: ignore[no-any-return]
    return None


def call_with(function: Callable[..., Any], **available: Any) -> Any:
    """Call ``function`` with the arguments it accepts out of ``available``.

    A required parameter that is not available is a programming mismatch
    between stages: TypeError names it.
    """
    signature = inspect.signature(function)
    params = signature.parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return function(**available)
    chosen = {k: v for k, v in available.items() if k in params}
    missing = [n for n, p in params.items()
               if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in chosen]
    if missing:
        raise TypeError(f"{function.__module__}.{function.__name__} needs {', '.join(missing)}")
    return function(**chosen)
