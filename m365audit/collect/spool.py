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
from m365audit.store.spooled import envelope_path


class PageSpool:
    """Raw pages of one collection, one line each.

    With ``envelopes`` a second small file (``envelope_path(path)``) gets each
    page's own fields with ``value`` replaced by ``"m365audit.records"``, so a
    loader can keep a record of very large pages without storing them.
    """

    def __init__(self, folder: Path, name: str, *, envelopes: bool = False) -> None:
        self.path = folder / f"{name}.ndjson"
        self._file = self.path.open("wb")
        self._envelopes = envelope_path(self.path).open("wb") if envelopes else None
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
            b'{"page_no":', str(self.pages).encode(),
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


def _strip_secrets(url: str) -> str:
    # Graph URLs carry no credentials, but a download URL from a 302 may carry a
    # signature; keep only scheme, host and path for those.
    if "sig=" in url or "signature=" in url.lower():
        return url.split("?", 1)[0]
    return url


class SpoolFolder:
    """A private temporary folder for one collection step."""

    def __init__(self, prefix: str = "m365audit-") -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        self._spools: list[PageSpool] = []

    def spool(self, name: str, *, envelopes: bool = False) -> PageSpool:
        spool = PageSpool(self.path, name, envelopes=envelopes)
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
