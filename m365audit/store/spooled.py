"""Reading spool files (one Graph page per line, see ``m365audit.collect.spool``) in DuckDB."""

from __future__ import annotations

from pathlib import Path

_MIN_OBJECT = 1 << 20
_MAX_OBJECT = 1 << 29


def sql_path(path: Path) -> str:
    # Paths are our own temporary files; quotes are doubled all the same.
    return str(path).replace("'", "''")


def envelope_path(path: Path) -> Path:
    """Where a spool's page envelopes are written (see ``PageSpool``); maps a glob to a glob."""
    return path.with_name("envelopes-" + path.name)


def matching(path: Path) -> list[Path]:
    """The files a spool path names: itself, or every match when it is a glob."""
    if "*" in path.name:
        return sorted(path.parent.glob(path.name))
    return [path] if path.exists() else []


def total_size(path: Path) -> int:
    return sum(p.stat().st_size for p in matching(path))


def object_size(path: Path, longest_line: int | None = None) -> int:
    """``maximum_object_size`` for ``read_json`` of a spool whose longest line is ``longest_line`` bytes.

    DuckDB sizes its read buffers from this limit: 512 MiB cost 1 GiB of
    buffers and made reading a million users five times slower than 8 MiB.
    So the limit is the smallest power of two above the longest line the
    spool wrote (or above the file's size when that is not known).
    """
    longest = longest_line if longest_line is not None else max((p.stat().st_size for p in matching(path)),
                                                                  default=0)
    size = _MIN_OBJECT
    while size <= longest and size < _MAX_OBJECT:
        size *= 2
    return size


def read_pages(path: Path, columns: str, longest_line: int | None = None) -> str:
    """SQL for ``read_json`` of a spool file with DuckDB ``columns`` (a struct literal).

    Name ``page_no`` among the columns: it is the first key of every line, and
    DuckDB's reader was ten times slower when the first key was not read.
    """
    return (f"read_json('{sql_path(path)}', format='newline_delimited', columns={columns},"
            f" maximum_object_size={object_size(path, longest_line)})")
