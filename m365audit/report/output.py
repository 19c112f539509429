"""Writing the report files all or nothing.

Everything is rendered into a hidden temporary folder next to (or inside) the
destination; only when every file is complete are they moved into place with
os.replace, so a failure or a kill leaves the previous report untouched and no
half-written file behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from m365audit.outputs import MARKER, OutputError, Protected, cause, check_entry, check_folder, mark_folder


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A temporary folder (owner-only) on the same file system as ``out``; removed if the block fails.

    The caller has passed ``out`` through ``outputs.check_folder``.
    """
    parent = out if out.is_dir() else out.parent
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".m365audit-report-", dir=parent))
    except OSError as exc:
        raise OutputError(f"Cannot write the reports to {out}: {cause(exc)}; nothing was written.") from None
    try:
        yield tmp
    except OSError as exc:
        raise OutputError(f"Cannot write the reports to {out}: {cause(exc)}; nothing was written.") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def publish(tmp: Path, out: Path, names: list[str], protected: Protected = ()) -> list[Path]:
    """Move the finished files (and folders) ``names`` from ``tmp`` into ``out``, marked as m365audit's."""
    try:
        _owner_only(tmp)
        if not out.exists():
            # A new report folder: one rename publishes everything at once. It keeps the
            # temporary folder's owner-only permissions, as the reports hold personal data.
            mark_folder(tmp)
            os.replace(tmp, out)
            return [out / name for name in names]
        check_folder(out, option="--out", replace=True, protected=protected, names=names)
        for name in names:
            check_entry(out / name, option="--out", protected=protected)
        for name in names:
            _replace(tmp / name, out / name)
        if not (out / MARKER).exists():
            mark_folder(out)
    except OSError as exc:
        raise OutputError(f"Cannot write the reports to {out}: {cause(exc)}.") from None
    return [out / name for name in names]


def _owner_only(folder: Path) -> None:
    """Reports hold personal data: every file 0600 and folder 0700, whatever the umask."""
    os.chmod(folder, 0o700)
    for root, folders, files in os.walk(folder):
        for name in folders:
            os.chmod(Path(root) / name, 0o700)
        for name in files:
            os.chmod(Path(root) / name, 0o600)


def _replace(source: Path, target: Path) -> None:
    if source.is_dir():
        # A folder cannot replace a non-empty folder: swap it aside, then delete the old one.
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(source, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, target)
