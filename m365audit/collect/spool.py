"""Spooling raw Graph pages to newline-delimited JSON files for DuckDB to load.

Each line wraps one page as received: ``{"page_no", "url", "fetched_at",
"body": <the page's JSON>}``. The page bytes are copied, not re-encoded,
unless they contain a newline. Files live in a private temporary folder and
are deleted when the step ends, loaded or not.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import orjson

from m365audit.collect.graph import Page
from m365audit.store.spooled import envelope_path


class PageSpool:
    """Raw pages of one collection, one line each.

    With ``envelopes`` a second small file (``envelope_path(path)``) gets each
    page's own fields with ``value`` replaced by ``"m365audit.records"``, so a
    loader can keep a record of very large pages without storing them.
    """

    def __init__(self, folder: Path, name: str, *, envelopes: bool = False, page_offset: int = 0) -> None:
        self.path = folder / f"{name}.ndjson"
        self._file = self.path.open("wb")
        self._envelopes = envelope_path(self.path).open("wb") if envelopes else None
        self.page_offset = page_offset  # page numbers continue across the files of a ChunkedSpool
        self.pages = 0
        self.records = 0
        self.bytes = 0
        self.longest = 0  # longest line written, which sizes the loader's read buffers

    def add(self, page: Page, records: int | None = None) -> None:
        body = page.body
        if b"\n" in body or b"\r" in body:
            body = orjson.dumps(page.data)
        self.pages += 1
        line = b"".join((
            b'{"page_no":', str(self.page_offset + self.pages).encode(),
            b',"url":', orjson.dumps(_strip_secrets(page.url)),
            b',"fetched_at":"', datetime.now(UTC).isoformat().encode(),
            b'","body":', body, b"}\n",
        ))
        self._file.write(line)
        self.bytes += len(line)
        self.longest = max(self.longest, len(line))
        if records is None:
            records = page.records
        self.records += records
        if self._envelopes is not None:
            links = {"@odata.nextLink": page.next_link, "@odata.deltaLink": page.delta_link}
            envelope: dict[str, object] = {k: v for k, v in links.items() if v is not None}
            envelope["m365audit.records"] = records
            self._envelopes.write(line[:line.index(b'"body":') + 7] + orjson.dumps(envelope) + b"}\n")

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        if self._envelopes is not None and not self._envelopes.closed:
            self._envelopes.close()


class ChunkedSpool:
    """The pages of a large collection in files of ``chunk_pages`` pages each.

    Each finished file is handed to ``on_chunk``, which may load or convert it
    in the background while the next pages arrive; ``path`` is a glob that
    DuckDB reads as one file.
    """

    def __init__(self, folder: Path, name: str, *, chunk_pages: int, envelopes: bool = False,
                 on_chunk: Callable[[PageSpool], None] | None = None) -> None:
        self.folder = folder
        self.name = name
        self.path = folder / f"{name}-*.ndjson"
        self.chunk_pages = chunk_pages
        self.chunks: list[PageSpool] = []
        self._envelopes = envelopes
        self._on_chunk = on_chunk
        self._open: PageSpool | None = None

    def add(self, page: Page, records: int | None = None) -> None:
        if self._open is None:
            self._open = PageSpool(self.folder, f"{self.name}-{len(self.chunks) + 1:05d}",
                                   envelopes=self._envelopes, page_offset=self.pages)
            self.chunks.append(self._open)
        self._open.add(page, records)
        if self._open.pages >= self.chunk_pages:
            self._finish_chunk()

    def _finish_chunk(self) -> None:
        chunk, self._open = self._open, None
        if chunk is not None:
            chunk.close()
            if self._on_chunk is not None:
                self._on_chunk(chunk)

    def close(self) -> None:
        if not self.chunks:  # no page at all: an empty file, so readers of the glob find one
            self._open = PageSpool(self.folder, f"{self.name}-00001", envelopes=self._envelopes)
            self.chunks.append(self._open)
        self._finish_chunk()

    @property
    def pages(self) -> int:
        return sum(c.pages for c in self.chunks)

    @property
    def records(self) -> int:
        return sum(c.records for c in self.chunks)

    @property
    def bytes(self) -> int:
        return sum(c.bytes for c in self.chunks)

    @property
    def longest(self) -> int:
        return max((c.longest for c in self.chunks), default=0)


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
        self._chunked: list[ChunkedSpool] = []

    def spool(self, name: str, *, envelopes: bool = False) -> PageSpool:
        spool = PageSpool(self.path, name, envelopes=envelopes)
        self._spools.append(spool)
        return spool

    def chunked_spool(self, name: str, *, chunk_pages: int, envelopes: bool = False,
                      on_chunk: Callable[[PageSpool], None] | None = None) -> ChunkedSpool:
        spool = ChunkedSpool(self.path, name, chunk_pages=chunk_pages, envelopes=envelopes, on_chunk=on_chunk)
        self._chunked.append(spool)
        return spool

    def close(self) -> None:
        for spool in self._spools + [c for chunked in self._chunked for c in chunked.chunks]:
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
