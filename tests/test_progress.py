"""The progress module: JSON lines rate-limited on an injected clock, rich bars that stop, nothing when off."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from m365audit.errors import UsageError
from m365audit.progress import INTERVAL, Bars, JsonLines, Progress, choose_mode, progress_for


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _json_progress(clock: Clock) -> tuple[Progress, list[dict]]:
    lines: list[dict] = []
    return Progress("collect", JsonLines("collect", lines.append), clock), lines


def test_a_running_task_writes_at_most_one_line_per_interval_then_its_final_line() -> None:
    clock = Clock()
    progress, lines = _json_progress(clock)
    audit = progress.within(source="audit", window="2026-11-01")
    for step in range(20):  # an update every 0.5 s for 10 s
        clock.now = 100.0 + step * 0.5
        audit.advance("audit records", 10)
    clock.now = 110.0
    audit.finish("audit records", count=200)
    assert [(line["status"], line["records"], line["elapsed_s"]) for line in lines] == [
        ("running", 70, 3.0), ("running", 130, 6.0), ("running", 190, 9.0), ("done", 200, 10.0)]
    assert lines[0] == {"event": "progress", "command": "collect", "source": "audit", "window": "2026-11-01",
                        "task": "audit records", "records": 70, "status": "running", "elapsed_s": 3.0}
    assert INTERVAL == 3.0


def test_tasks_are_rate_limited_each_on_its_own() -> None:
    clock = Clock()
    progress, lines = _json_progress(clock)
    for step in range(7):  # two windows, updated every second
        clock.now = 100.0 + step
        progress.within(window="a").advance("audit records", 1)
        progress.within(window="b").advance("audit records", 2)
    assert [(line["window"], line["records"]) for line in lines] == [("a", 4), ("b", 8), ("a", 7), ("b", 14)]


def test_a_short_task_writes_only_its_final_line_and_one_cut_short_before_any_writes_none() -> None:
    clock = Clock()
    progress, lines = _json_progress(clock)
    progress.advance("users", 999)
    clock.now += 1
    progress.finish("users")
    progress.advance("group members", 5)
    clock.now += 1
    progress.close("stopped")
    assert [(line["task"], line["status"], line["records"]) for line in lines] == [("users", "done", 999)]


def test_steps_count_the_steps_completed_and_end_done() -> None:
    clock = Clock()
    progress, lines = _json_progress(clock)
    with progress.steps("report", 3) as step:
        for label in ("Computing licences", "Computing adoption", "Writing HTML"):
            clock.now += 2
            step(label, 1)
    assert [(line["doing"], line["steps"], line["status"]) for line in lines] == [
        ("Writing HTML", 2, "running"), ("Writing HTML", 3, "done")]  # the first line 4 s after the start
    assert lines[-1]["total"] == 3


def test_bars_are_drawn_on_a_terminal_and_stop_when_the_work_ends() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with progress_for("collect", "auto", console=console) as progress:
        assert isinstance(progress.view, Bars)
        live = progress.view.bar.live
        progress.within(source="licences").advance("users", 1234)
        live.refresh()
        progress.within(source="licences").finish("users")
        assert live.is_started
    assert not live.is_started  # stopped, and (transient) the bars are cleared
    drawn = out.getvalue()
    assert "licences: users" in drawn and "1,234 records" in drawn and "━" in drawn


def test_modes() -> None:
    assert choose_mode("auto", True) == "bars" and choose_mode("auto", False) == "json"
    assert choose_mode("off", True) == "off" and choose_mode("json", True) == "json"
    with pytest.raises(UsageError, match="--progress 'loud' must be one of auto, bars, json, off"):
        choose_mode("loud", False)
    with progress_for("report", "off") as progress:
        assert progress.view is None
        progress.advance("report", 1)


def test_the_heartbeat_repeats_the_stalest_running_task_when_nothing_was_written_for_an_interval() -> None:
    clock = Clock()
    progress, lines = _json_progress(clock)
    progress.within(window="a").advance("audit records", query="running")
    clock.now += 1
    progress.within(window="b").advance("audit records", query="running")
    clock.now += 1
    progress.tick()  # 2 s after the first task started: too soon
    assert lines == []
    clock.now += 1
    progress.tick()
    progress.tick()  # one line per interval, not one per tick
    clock.now += 2
    progress.tick()
    clock.now += 1
    progress.tick()  # a, then b: the stalest task each time
    assert [(line["window"], line["elapsed_s"], line["query"]) for line in lines] == [
        ("a", 3.0, "running"), ("b", 5.0, "running")]
    progress.within(window="a").finish("audit records")
    progress.within(window="b").finish("audit records")
    clock.now += 10
    progress.tick()  # nothing runs: nothing to say
    assert len(lines) == 4


def test_the_heartbeat_thread_runs_only_for_json_lines_and_stops_with_the_command() -> None:
    import threading

    written: list[dict] = []
    with progress_for("collect", "json", write=written.append) as progress:
        assert any(t.name == "m365audit-progress" for t in threading.enumerate())
        progress.advance("users", 1)
    with progress_for("collect", "off"):
        pass
    assert [line["status"] for line in written] == ["done"]
