"""Progress of long work: rich bars on a terminal, JSON lines for a machine, or nothing.

A command makes one ``Progress`` (``progress_for``) and hands it down; a stage
counts its work in named tasks (``advance``), says when one is done
(``finish``) and adds what identifies its part of the work with ``within``
(the source being collected, the audit window, the run's step). Where the
lines go is the view's business:

- on a terminal (stderr), a rich bar per task that disappears when the work ends;
- otherwise one JSON object per line on stderr: a task's line at most every
  ``interval`` seconds while it runs, then its final line (``"status": "done"``),
  so a nightly job's log shows that it is alive without being flooded; while
  nothing moves (an audit query the service is still running), a heartbeat
  repeats the least recently shown task's line once every ``interval`` seconds;
- ``off``: nothing.

Progress never goes to stdout, which carries the commands' results.
The JSON fields are documented in docs/operations.md ("Progress").
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

import orjson

INTERVAL = 3.0  # seconds between two JSON lines of one running task
MODES = ("auto", "bars", "json", "off")

Clock = Callable[[], float]


@dataclass
class Task:
    """One counted piece of work; ``context`` says whose (source, window, step), ``state`` how it stands."""

    name: str
    context: dict[str, Any]
    unit: str
    started: float
    count: int = 0
    total: int | None = None
    state: dict[str, Any] = field(default_factory=dict)
    status: str = "running"
    shown_at: float = 0.0  # when its last JSON line was written (the start, before the first)
    lasting: bool = True  # a bar that stays until the command ends; else removed when the task ends

    def record(self, command: str, now: float) -> dict[str, Any]:
        out: dict[str, Any] = {"event": "progress", "command": command, **self.context, "task": self.name,
                               **self.state, self.unit: self.count}
        if self.total is not None:
            out["total"] = self.total
        out["status"] = self.status
        out["elapsed_s"] = round(now - self.started, 1)
        return out


class View(Protocol):
    def update(self, task: Task, now: float) -> None: ...
    def finish(self, task: Task, now: float) -> None: ...
    def idle(self, tasks: list[Task], now: float) -> None: ...
    def close(self) -> None: ...


class Progress:
    """Counts a command's work in tasks and shows it through a view (None: counted, never shown)."""

    def __init__(self, command: str, view: View | None = None, clock: Clock = time.monotonic,
                 context: dict[str, Any] | None = None, tasks: dict[tuple[Any, ...], Task] | None = None,
                 lock: threading.RLock | None = None) -> None:
        self.command, self.view, self.clock = command, view, clock
        self.context = context or {}
        self.tasks: dict[tuple[Any, ...], Task] = {} if tasks is None else tasks
        # Shared with the heartbeat thread: a task ended here is never shown as running afterwards.
        self.lock = lock or threading.RLock()

    def within(self, **context: Any) -> Progress:
        """The same progress, for a part of the work (its tasks carry ``context``)."""
        return Progress(self.command, self.view, self.clock, {**self.context, **context}, self.tasks, self.lock)

    def __call__(self, label: str, n: int) -> None:
        """The ``(label, n)`` callback the collectors call: ``n`` more records of ``label``."""
        self.advance(label, n)

    def advance(self, name: str, n: int = 0, *, unit: str = "records", total: int | None = None,
                lasting: bool = True, **state: Any) -> Task:
        """``n`` more done of task ``name`` (started on first use); ``state`` replaces what it says of itself."""
        with self.lock:
            task = self._count(name, n, unit, total, lasting, state)
            if self.view is not None:
                self.view.update(task, self.clock())
            return task

    def _count(self, name: str, n: int, unit: str, total: int | None, lasting: bool, state: dict[str, Any]) -> Task:
        key = (name, *sorted(self.context.items()))
        task = self.tasks.get(key)
        if task is None:
            now = self.clock()
            task = self.tasks[key] = Task(name, dict(self.context), unit, now, shown_at=now, lasting=lasting)
        task.count += n
        task.total = total if total is not None else task.total
        task.state.update(state)
        return task

    def finish(self, name: str, *, status: str = "done", count: int | None = None, **state: Any) -> None:
        """Task ``name`` has ended (``status`` done, failed, pending...); ``count`` corrects its final figure."""
        with self.lock:
            task = self._count(name, 0, "records", None, True, state)
            if task.status != "running":
                return
            task.status = status
            if count is not None:
                task.count = count
            if self.view is not None:
                self.view.finish(task, self.clock())

    def end(self, status: str = "done", but: str | None = None) -> None:
        """End every running task of this part of the work (whose context includes this one's), ``but`` one."""
        with self.lock:
            for task in list(self.tasks.values()):
                if (task.status == "running" and self.context.items() <= task.context.items()
                        and not (task.name == but and task.context == self.context)):
                    Progress(self.command, self.view, self.clock, task.context, self.tasks,
                             self.lock).finish(task.name, status=status)

    @contextmanager
    def steps(self, name: str, total: int, unit: str = "steps") -> Iterator[Callable[[str, int], None]]:
        """A ``(label, n)`` callback for work in ``total`` known steps, called as each step begins.

        The task counts the steps completed; it is done when the block ends without an error.
        """
        begun = [0]  # the size of the step in hand, counted when the next begins

        def step(label: str, n: int) -> None:
            self.advance(name, begun[0], unit=unit, total=total, doing=label)
            begun[0] = n

        yield step
        self.finish(name, count=total)

    def tick(self) -> None:
        """The heartbeat: lets the view show that running work is alive when nothing has moved."""
        with self.lock:
            if self.view is not None:
                self.view.idle([t for t in self.tasks.values() if t.status == "running"], self.clock())

    def close(self, status: str = "stopped") -> None:
        """End the tasks still running (as ``status``) and stop the view."""
        with self.lock:
            for task in list(self.tasks.values()):
                if task.status == "running" and self.view is not None:
                    task.status = status
                    self.view.finish(task, self.clock())
            if self.view is not None:
                self.view.close()


class JsonLines:
    """One JSON object a line: a running task at most every ``interval`` s, and its final line."""

    def __init__(self, command: str, write: Callable[[dict[str, Any]], None], interval: float = INTERVAL) -> None:
        self.command, self._write, self.interval = command, write, interval
        self.written_at: float | None = None  # the last line's time, any task's

    def update(self, task: Task, now: float) -> None:
        if now - task.shown_at >= self.interval:
            self.write(task, now)

    def finish(self, task: Task, now: float) -> None:
        if task.status == "stopped" and task.shown_at == task.started:
            return  # cut short before its first line: the command's error says what happened
        self.write(task, now)

    def idle(self, tasks: list[Task], now: float) -> None:
        """No line for ``interval`` seconds: the line of the running task shown least recently."""
        quiet_since = self.written_at if self.written_at is not None else min((t.started for t in tasks), default=now)
        if tasks and now - quiet_since >= self.interval:
            self.write(min(tasks, key=lambda t: t.shown_at), now)

    def write(self, task: Task, now: float) -> None:
        task.shown_at = self.written_at = now
        self._write(task.record(self.command, now))

    def close(self) -> None:
        return None


def stderr_writer(stream: TextIO | None = None) -> Callable[[dict[str, Any]], None]:
    """Writes a record as one JSON line, with the time, on ``stream`` (stderr at the time of writing)."""
    def write(record: dict[str, Any]) -> None:
        out = stream or sys.stderr
        stamped = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **record}
        out.write(orjson.dumps(stamped, default=str).decode() + "\n")
        out.flush()
    return write


class Bars:
    """A rich bar per task on the terminal; a command's bars are cleared when it ends."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                            TextColumn("{task.fields[figure]}"), TimeElapsedColumn(),
                            console=console or Console(stderr=True), transient=True)
        self.ids: dict[int, Any] = {}
        self.bar.start()

    def update(self, task: Task, now: float) -> None:
        ident = self.ids.get(id(task))
        if ident is None:
            ident = self.ids[id(task)] = self.bar.add_task(_describe(task), total=task.total, figure="")
        self.bar.update(ident, description=_describe(task), completed=task.count, total=task.total,
                        figure=_figure(task))

    def finish(self, task: Task, now: float) -> None:
        ident = self.ids.get(id(task))
        if ident is None:
            return
        if not task.lasting:
            self.bar.remove_task(ident)
            return
        self.bar.update(ident, total=task.total or max(task.count, 1), completed=task.total or max(task.count, 1),
                        description=_describe(task), figure=_figure(task))
        self.bar.stop_task(ident)

    def idle(self, tasks: list[Task], now: float) -> None:
        return None  # rich redraws the bars (spinner, elapsed time) by itself

    def close(self) -> None:
        self.bar.stop()


def _describe(task: Task) -> str:
    parts = [str(v) for v in task.context.values()] + [task.name]
    if "doing" in task.state:
        parts.append(str(task.state["doing"]))
    return ": ".join(dict.fromkeys(parts))


def _figure(task: Task) -> str:
    shown = f"{task.count:,}" + (f"/{task.total:,}" if task.total is not None else "") + f" {task.unit}"
    extra = [f"{k.replace('_', ' ')} {v:,}" if isinstance(v, int) else f"{v}"
             for k, v in task.state.items() if k != "doing" and not isinstance(v, dict)]
    return ", ".join([shown, *extra]) if task.status == "running" else f"{shown} ({task.status})"


def choose_mode(mode: str, is_terminal: bool) -> str:
    """auto: bars on a terminal, JSON lines otherwise."""
    if mode not in MODES:
        from m365audit.errors import UsageError

        raise UsageError(f"--progress {mode!r} must be one of {', '.join(MODES)}.")
    if mode == "auto":
        return "bars" if is_terminal else "json"
    return mode


@contextmanager
def progress_for(command: str, mode: str = "auto", *, console: Any = None, clock: Clock = time.monotonic,
                 write: Callable[[dict[str, Any]], None] | None = None) -> Iterator[Progress]:
    """The command's progress, shown as ``mode`` says, and closed when the block ends."""
    chosen = choose_mode(mode, sys.stderr.isatty() if console is None else console.is_terminal)
    view: View | None = None
    if chosen == "bars":
        view = Bars(console)
    elif chosen == "json":
        view = JsonLines(command, write or stderr_writer())
    progress = Progress(command, view, clock)
    beating = _heartbeat(progress) if isinstance(view, JsonLines) else None
    try:
        yield progress
    except BaseException:
        progress.close("stopped")
        raise
    finally:
        if beating is not None:
            beating.set()
    progress.close("done")


def _heartbeat(progress: Progress, every: float = 1.0) -> threading.Event:
    """A daemon thread calling ``progress.tick()`` every ``every`` seconds until the returned event is set."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            progress.tick()

    threading.Thread(target=beat, name="m365audit-progress", daemon=True).start()
    return stop
