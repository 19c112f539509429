"""The one guard every command passes before it writes a file or a folder.

A command may write only where it cannot destroy something the user did not
ask it to replace. Refused, always (exit 2, one sentence, before anything is
written): the database, its write-ahead log (``<db>.wal``), its lock file
(``<db>.lock``) and every input file of the command; a symbolic link (writing
through it would replace a file the tool did not create); anything that is not
a regular file (a device such as /dev/full, a folder, a pipe); and the system
folders. Refused unless asked: an existing file (``--force``) and a folder that
holds files m365audit did not write (``--replace``).

A folder m365audit wrote carries :data:`MARKER`; re-running ``report --out DIR``
on it is the normal workflow and needs no option. Report folders written before
the marker existed are recognised by holding nothing but report files.

Writes are atomic: a temporary file in the same folder, flushed, then renamed
over the target, so a failure leaves the previous file (or nothing) in place.
An operating-system failure (disk full, read-only file system, permission) is
one sentence naming the path and the cause.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from m365audit.errors import UsageError

MARKER = ".m365audit-output"
# Top-level trees that hold the operating system: nothing is written inside them.
_SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sbin",
                 "/sys", "/usr")
# Folders that are refused themselves (their sub-folders may be a deliberate place for reports).
_SYSTEM_FOLDERS = ("/", "/home", "/media", "/mnt", "/opt", "/root", "/run", "/srv", "/tmp", "/var",
                   "/var/lib", "/var/log", "/var/tmp")
# What a report or run folder written by an earlier version holds (no marker then).
_OWN_NAMES = re.compile(r"^(copilot-report[^/]*\.(html|xlsx)|csv(-[a-z0-9-]+)?|foi-answer\.[a-z]+|\..*)$")


class OutputError(UsageError):
    """An output location that must not or cannot be written. Nothing was written."""


Protected = Sequence[tuple[Path, str]]


def protected_paths(db: Path | None = None, inputs: Iterable[Path | None] = ()) -> Protected:
    """The database with its WAL and lock file, and the command's input files, each with what it is."""
    paths = [(Path(p), "an input file of this command") for p in inputs if p is not None]
    if db is not None:
        db = Path(db)
        paths += [(db, "the database"), (db.with_name(db.name + ".wal"), "the database's write-ahead log"),
                  (db.with_name(db.name + ".lock"), "the database's lock file")]
    return paths


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _same(a: Path, b: Path) -> bool:
    if _real(a) == _real(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _is_system(folder: Path) -> bool:
    real = _real(folder)
    text = str(real)
    home = _real(Path.home())
    if real == home or real in home.parents:
        return True
    if text in _SYSTEM_FOLDERS:
        return True
    return any(text == tree or text.startswith(tree + "/") for tree in _SYSTEM_TREES)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_file(path: Path, *, option: str, force: bool = False, protected: Protected = (),
               ours: bytes | None = None) -> Path:
    """Refuse an output file the command must not write; return it unchanged when it may.

    ``ours``: the first bytes of a file this command wrote before (such a file is
    replaced without ``--force``).
    """
    path = Path(path)
    for other, what in protected:
        if _same(path, other):
            raise OutputError(f"{option} {path} is {what}; choose another file.")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"Cannot write {option} {path}: {cause(exc)}.") from None
    folder = path.parent if str(path.parent) else Path(".")
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise OutputError(f"{option} {path} is a symbolic link; m365audit does not write through links: "
                              "give the real path.")
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"{option} {path} is {_kind(info.st_mode)}, not a regular file; choose a file.")
        if not force and not (ours is not None and _starts_with(path, ours)):
            raise OutputError(f"{option} {path} already exists; pass --force to replace it.")
    if not folder.is_dir():
        raise OutputError(f"Cannot write {option} {path}: the folder {folder} does not exist.")
    if _is_system(folder):
        raise OutputError(f"{option} {path} is in the system folder {_real(folder)}; choose another place.")
    return path


def _starts_with(path: Path, head: bytes) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(len(head)) == head
    except OSError:
        return False


def check_folder(path: Path, *, option: str, replace: bool = False, protected: Protected = (),
                 names: Iterable[str] = (), removes_folder: bool = False) -> Path:
    """Refuse an output folder the command must not write into; return it when it may.

    ``names``: the entries the command will create or replace inside the folder;
    ``removes_folder``: the command replaces the whole folder (then nothing
    protected may be inside it).
    """
    path = Path(path)
    if _is_system(path):
        raise OutputError(f"{option} {path} is a system folder ({_real(path)}); choose a folder of its own.")
    if path.is_symlink():
        raise OutputError(f"{option} {path} is a symbolic link; m365audit does not write through links: "
                          "give the real path.")
    for other, what in protected:
        if _same(path, other) or (removes_folder and _real(path) in _real(other).parents):
            raise OutputError(f"{option} {path} is or holds {what}; choose another folder.")
    if not path.exists():
        if not path.parent.is_dir():
            raise OutputError(f"Cannot write {option} {path}: the folder {path.parent} does not exist.")
        return path
    if not path.is_dir():
        raise OutputError(f"{option} {path} is not a folder; give a folder for the output.")
    for name in names:
        target = path / name
        check_entry(target, option=option, protected=protected)
    if not replace and not is_own_folder(path):
        raise OutputError(f"{option} {path} holds files m365audit did not write; pass --replace to write "
                          "into it anyway, or choose an empty folder.")
    return path


def check_entry(target: Path, *, option: str, protected: Protected) -> None:
    """An entry the command replaces inside an output folder: never a link, device or protected file."""
    for other, what in protected:
        if _same(target, other) or _real(target) in _real(other).parents:
            raise OutputError(f"{option}: {target} is or holds {what}; choose another folder.")
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise OutputError(f"{option}: {target} is a symbolic link; m365audit does not replace links.")
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        raise OutputError(f"{option}: {target} is {_kind(info.st_mode)}; m365audit replaces only its own files.")


def is_own_folder(path: Path) -> bool:
    """Empty, marked by m365audit, or holding only the files a report or run writes."""
    if (path / MARKER).is_file():
        return True
    return all(_OWN_NAMES.match(child.name) for child in path.iterdir())


def mark_folder(path: Path) -> None:
    """Write the marker that lets later runs replace this folder's files without --replace."""
    (path / MARKER).write_text("Written by m365audit; its files are replaced when the command runs again.\n",
                               encoding="utf-8")
    os.chmod(path / MARKER, 0o600)


def write_atomically(path: Path, data: bytes, *, option: str = "the output", mode: int = 0o600) -> Path:
    """Write ``data`` to a temporary file beside ``path`` (owner-only), then rename it into place."""
    folder = path.parent if str(path.parent) else Path(".")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"Cannot write {option} {path}: {cause(exc)}; nothing was written.") from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise
    return path


def cause(exc: OSError) -> str:
    """An operating-system error in words: the disk is full, the file system is read-only..."""
    known = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only",
             errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
             errno.EDQUOT: "the disk quota is exceeded", errno.EISDIR: "it is a folder",
             errno.ELOOP: "it is a symbolic link",
             errno.ENOTDIR: "a part of the path is not a folder", errno.ENOENT: "the folder does not exist"}
    return known.get(exc.errno or 0) or (exc.strerror or str(exc)).rstrip(".").lower()
