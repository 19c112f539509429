"""The collector runs where Windows schedulers run it: no POSIX-only module on any import path.

Windows itself is not available here; these tests take away what Windows lacks
(``fcntl``, ``O_NOFOLLOW``, ``os.pread``) in a child interpreter and run the
real commands' import paths and the writer lock there, with the lock's Windows
branch (``msvcrt.locking``) played by a byte-range lock stand-in.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

WITHOUT_POSIX = """
import os, sys
sys.modules["fcntl"] = None  # import fcntl now raises ImportError, as on Windows
for name in ("O_NOFOLLOW", "pread", "pwrite"):
    if hasattr(os, name):
        delattr(os, name)
"""


def _child(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_POSIX + textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=120)


def test_every_command_imports_without_posix_only_modules() -> None:
    done = _child("""
        import m365audit.cli.app, m365audit.collect.runner, m365audit.ops.pipeline, m365audit.ops.steps
        import m365audit.store.lock, m365audit.store.db, m365audit.report.manager, m365audit.foi
        print("imported")
    """)
    assert done.returncode == 0 and done.stdout.strip() == "imported", done.stderr


def test_the_lock_works_through_the_windows_branch(tmp_path: Path) -> None:
    """msvcrt.locking stand-in: a lock table shared through a folder, as the OS would hold it."""
    done = _child("""
        import os, sys, types
        held = {}
        def locking(fd, mode, nbytes):
            key = os.lseek(fd, 0, os.SEEK_CUR)
            if key in held.values():
                raise OSError(36, "Resource deadlock avoided")
            held[fd] = key
        sys.modules["msvcrt"] = types.SimpleNamespace(LK_NBLCK=2, locking=locking)
        from pathlib import Path
        from m365audit.errors import DatabaseError
        import m365audit.store.lock as lock
        from m365audit.store.lock import lock_path, writer_lock, _acquire
        lock._WINDOWS = True  # the branch os.name == "nt" selects
        db = Path(sys.argv[1])
        with writer_lock(db, "collect") as previous:
            assert previous is None
            text = lock_path(db).read_text()
            assert '"command":"collect"' in text, text
            try:
                _acquire(lock_path(db).parent.resolve() / lock_path(db).name, "run", db)
            except DatabaseError as exc:
                print("refused:", exc.message)
        assert not lock_path(db).exists()
        print("released")
    """, str(tmp_path / "w.duckdb"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("refused: Another m365audit collect (process ") and "is writing to" in lines[0]
    assert lines[1] == "released"
