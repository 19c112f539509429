"""Spooling raw Graph pages to newline-delimited JSON files for DuckDB to load.

Each line wraps one page as received: ``{"page_no", "url", "fetched_at",
"body": <the page's JSON>}``. The page bytes are copied, not re-encoded,
unless they contain a newline. Files live in a private temporary folder and
are deleted when the step ends, loaded or not.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import orjson

from m365audit.collect.graph import Page


class PageSpool:
    def __init__(self, folder: Path, name: str) -> None:
        self.path = folder / f"{name}.ndjson"
        self._file = self.path.open("wb")
        self.pages = 0
        self.records = 0
        self.bytes = 0

    def add(self, page: Page, records: int | None = None) -> None:
        body = page.body
        if b"\n" in body or b"\r" in body:
            body = orjson.dumps(page.data)
        self.pages += 1
        line = b"".join((
            b'{"page_no":', str(self.pages).encode(),
            b',"url":', orjson.dumps(_strip_secrets(page.url)),
            b',"fetched_at":"', datetime.now(UTC).isoformat().encode(),
            b'","body":', body, b"}\n",
        ))
        self._file.write(line)
        self.bytes += len(line)
        if records is None:
            value = page.data.get("value")
            records = len(value) if isinstance(value, list) else 0
        self.records += records

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def _strip_secrets(url: str) -> str:
    # Graph URLs carry no credentials, but a download URL from a 302 may carry a
    # signature; keep only scheme, host and path for those.
    if "sig=" in url or "signature=" in url.lower():
        return url.split("?", 1)[0]
    return url


class SpoolFolder:
    """A private temporary folder for one collection step.

    ``parent`` puts it beside the database (see ``spool_root``) rather than in
    the system temporary folder: a run killed mid-step leaves its pages
    there, and the next run, holding the writer lock, deletes them.
    """

    def __init__(self, prefix: str = "m365audit-", parent: Path | None = None) -> None:
        if parent is not None:
            parent.mkdir(mode=0o700, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self._spools: list[PageSpool] = []

    def spool(self, name: str) -> PageSpool:
        spool = PageSpool(self.path, name)
        self._spools.append(spool)
        return spool

    def close(self) -> None:
        for spool in self._spools:
            spool.close()
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> SpoolFolder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def spool_root(db: Path) -> Path:
    """Where a collection into ``db`` spools pages: a hidden folder beside it."""
    return db.with_name(f".{db.name}.spool")


def remove_leftovers(db: Path) -> int:
    """Delete pages spooled by a run that was killed; call while holding the writer lock."""
    root = spool_root(db)
    if not root.is_dir():
        return 0
    leftovers = list(root.iterdir())
    shutil.rmtree(root, ignore_errors=True)
    return len(leftovers)
