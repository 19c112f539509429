"""`m365audit run`: the nightly job as a list of steps, each logged with counts and duration.

collect -> retention -> check -> report -> foi -> email. The whole run holds
the database's single-writer lock. A failed collection does not stop the
later steps (they read the last committed state, which their provenance
shows), but it decides the exit code. Bad configuration or an unusable
database stops the run at once with exit code 2.

Exit code: 2 if a step met bad input or an unusable database; 4 if a step
hit an internal error; 3 if collection (or delivery) failed; 1 if checks
found something at or above ``fail_on``; else 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from m365audit import environment
from m365audit.errors import EXIT_USAGE, M365AuditError
from m365audit.ops.config import RunConfig
from m365audit.ops.log import Redactor, RunLog
from m365audit.progress import Progress, progress_for
from m365audit.store.pseudonym import PseudonymKey

if TYPE_CHECKING:
    from m365audit.collect.graph import RetryPolicy

EXIT_INTERNAL = 4
_PRIORITY = (EXIT_USAGE, EXIT_INTERNAL, 3, 1)  # the first present wins


@dataclass
class Outcome:
    """What one step reports."""

    status: str  # ok, failed or skipped
    counts: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    exit_code: int = 0


@dataclass
class StepResult:
    step: str
    status: str
    seconds: float
    counts: dict[str, Any]
    message: str | None
    exit_code: int

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "status": self.status, "seconds": self.seconds, "message": self.message}


@dataclass
class RunContext:
    config: RunConfig
    log: RunLog
    now: datetime
    credential: Any
    key: PseudonymKey | None
    policy: Any  # the RetryPolicy whose time budget covers the whole run
    progress: Progress = field(default_factory=lambda: Progress("run"))  # each step's, within step=<name>
    results: list[StepResult] = field(default_factory=list)
    run_id: str | None = None
    findings: dict[str, Any] | None = None
    report_dir: Path | None = None
    report_files: list[Path] = field(default_factory=list)
    stopped: bool = False  # SIGINT or SIGTERM stopped the collection: not retried


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int
    steps: list[StepResult]


Step = Callable[[RunContext], Outcome]


def run_logged(load: Callable[[], tuple[RunConfig, datetime | None, RetryPolicy]], log: RunLog,
               progress: str = "auto") -> int:
    """Load the configuration and run; every error is a log record (JSON when the log is). The exit code.

    On a terminal the errors stay one sentence each, as every command's are (cli/app.py).
    """
    try:
        config, now, retry = load()
        log.redact = Redactor([config.pseudonym_key_env])
        with progress_for("run", progress, write=log.progress if log.json_lines else None) as shown:
            return run_nightly(config, log=log, now=now, retry=retry, progress=shown).exit_code
    except M365AuditError as exc:
        if not log.json_lines:
            raise
        log.emit("run", level="error", status="failed", exit_code=exc.exit_code, message=exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        if not log.json_lines:
            raise
        log.emit("run", level="error", status="failed", exit_code=130, message="interrupted")
        return 130
    except Exception as exc:
        if not log.json_lines or environment.DEBUG.raw():
            raise
        log.emit("run", level="error", status="failed", exit_code=EXIT_INTERNAL,
                 message=f"internal error ({type(exc).__name__}: {exc}); set M365AUDIT_DEBUG=1 for the "
                         "traceback and please report it")
        return EXIT_INTERNAL


def run_nightly(config: RunConfig, *, log: RunLog | None = None, now: datetime | None = None,
                credential: Any = None, retry: RetryPolicy | None = None,
                progress: Progress | None = None) -> RunOutcome:
    """Run every configured step under the writer lock; never raises for a failed step."""
    from m365audit.collect.auth import make_credential
    from m365audit.collect.graph import RetryPolicy
    from m365audit.ops import steps
    from m365audit.store.lock import writer_lock
    from m365audit.store.pseudonym import key_from_env

    log = log or RunLog(redactor=Redactor([config.pseudonym_key_env]))
    key = key_from_env(config.pseudonym_key_env) if config.pseudonymise_storage else None
    credential = credential or make_credential(config.auth)
    started = time.monotonic()
    with log.capture_library_logs(), writer_lock(config.db, "run"):
        ctx = RunContext(config, log, now or datetime.now(UTC), credential, key,
                         retry or RetryPolicy(budget_seconds=config.budget_seconds), progress or Progress("run"))
        log.emit("run", status="started", config=config.source, database=str(config.db))
        with ctx.progress.steps("run", len(steps.STEPS)) as begin:
            for name, step in steps.STEPS:
                begin(name, 1)
                if not _run_step(ctx, name, step):
                    break
        ctx.progress.end("stopped")  # the run's last line is its own
        code = exit_code(ctx.results)
        log.emit("run", level="error" if code not in (0, 1) else "warning" if code == 1 else "info",
                 status="ok" if code in (0, 1) else "failed", exit_code=code,
                 seconds=round(time.monotonic() - started, 3),
                 steps={r.step: r.status for r in ctx.results})
    return RunOutcome(code, ctx.results)


def _run_step(ctx: RunContext, name: str, step: Step) -> bool:
    """Run one step and log it; False when the run must stop here."""
    started = time.monotonic()
    go_on = True
    try:
        outcome = step(ctx)
    except M365AuditError as exc:
        if exc.exit_code == EXIT_USAGE and _collection_failed(ctx):
            # Nothing to check or report yet because collection failed: that failure
            # (exit 3) is the story, not this step's complaint about an empty database.
            outcome = Outcome("skipped", message=f"after the failed collection: {exc.message}")
        else:
            outcome = Outcome("failed", message=exc.message, exit_code=exc.exit_code)
            go_on = exc.exit_code != EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - one broken stage must not cost the others
        outcome = Outcome("failed", message=f"internal error ({type(exc).__name__}: {exc})",
                          exit_code=EXIT_INTERNAL)
    result = StepResult(name, outcome.status, time.monotonic() - started, outcome.counts, outcome.message,
                        outcome.exit_code)
    ctx.results.append(result)
    ctx.log.step(name, result.status, result.seconds, result.counts, result.message, result.exit_code)
    return go_on


def _collection_failed(ctx: RunContext) -> bool:
    return any(r.step == "collect" and r.status == "failed" for r in ctx.results)


def exit_code(results: list[StepResult]) -> int:
    codes = {r.exit_code for r in results}
    return next((code for code in _PRIORITY if code in codes), 0)
