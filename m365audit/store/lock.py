"""The single-writer rule: one collecting process per database file.

DuckDB lets only one process hold a file read-write, and only while it is
open; the collector opens it briefly for each commit, so DuckDB's own lock
cannot stop a second collector from interleaving its steps. A lock file
``<db>.lock`` next to the database does: it is held with ``flock`` for the
whole run and names its holder (pid, host, command, start time).

``flock`` locks die with their process, so a lock left by a killed run is
never stale: the next run takes it at once and learns, from the text still
in the file, which run ended without finishing. Readers (check, report,
foi, licences) ignore this file and read the last committed state.

Acquisition is re-entrant within one process (``run`` holds the lock and
calls ``collect``, which takes it again).
"""

from __future__ import annotations

import fcntl
import os
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from m365audit.errors import DatabaseError
from m365audit.outputs import cause


@dataclass(frozen=True)
class Holder:
    pid: int | None
    host: str | None
    command: str | None
    started_at: str | None

    def describe(self) -> str:
        who = f"m365audit {self.command}" if self.command else "m365audit process"
        where = f"process {self.pid}" if self.pid else "a process"
        if self.host and self.host != socket.gethostname():
            where += f" on {self.host}"
        when = f", started {self.started_at.replace('T', ' ')[:19]} UTC" if self.started_at else ""
        return f"another {who} ({where}{when})"


@dataclass
class _Held:
    fd: int
    depth: int
    previous: Holder | None


_HELD: dict[Path, _Held] = {}


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


@contextmanager
def writer_lock(db: Path | str, command: str) -> Iterator[Holder | None]:
    """Hold the writer lock for ``db``; yields the holder of a run that died holding it, if any."""
    raw = lock_path(Path(db))
    path = raw.parent.resolve() / raw.name  # never follow a link in the lock's own name
    held = _HELD.get(path)
    if held is not None:
        held.depth += 1
        try:
            yield held.previous
        finally:
            held.depth -= 1
        return
    fd, previous = _acquire(path, command, Path(db))
    _HELD[path] = _Held(fd, 1, previous)
    try:
        yield previous
    finally:
        del _HELD[path]
        _release(path, fd)


def _acquire(path: Path, command: str, db: Path) -> tuple[int, Holder | None]:
    if not path.parent.is_dir():
        raise DatabaseError(f"Cannot create {db}: the folder {path.parent} does not exist.")
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise DatabaseError(f"Cannot create the lock file {path} beside the database {db}: {cause(exc)}; "
                                "nothing was changed.") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise DatabaseError(f"The lock file {path} is not a regular file; remove it and try again.")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = _read(fd).describe()
            os.close(fd)
            raise DatabaseError(
                f"{who[0].upper()}{who[1:]} is writing to {db}; this one stops without "
                "changing anything. Try again when it has finished.") from None
        # The holder before us may have unlinked the file after we opened it:
        # then we hold a lock on a file nobody else will see, so start again.
        if _same_file(fd, path):
            break
        os.close(fd)
    previous = _read(fd)
    try:
        _write(fd, command)
    except OSError as exc:
        _release(path, fd)
        raise DatabaseError(f"Cannot write the lock file {path} beside the database {db}: {cause(exc)}; "
                            "nothing was changed.") from None
    return fd, previous if previous.pid else None


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _read(fd: int) -> Holder:
    try:
        raw = os.pread(fd, 4096, 0)
        data = orjson.loads(raw) if raw.strip() else {}
    except (OSError, orjson.JSONDecodeError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    pid = data.get("pid")
    return Holder(pid if isinstance(pid, int) else None, data.get("host"), data.get("command"),
                  data.get("started_at"))


def _write(fd: int, command: str) -> None:
    text = orjson.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                         "started_at": datetime.now(UTC).isoformat(timespec="seconds")})
    os.ftruncate(fd, 0)
    os.pwrite(fd, text, 0)
    os.fsync(fd)


def _release(path: Path, fd: int) -> None:
    # Unlink while still holding the lock (see _acquire's inode check), then drop it.
    try:
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)
