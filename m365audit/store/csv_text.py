"""Making an exported CSV readable by DuckDB: encoding, header, delimiter.

Exports arrive as UTF-8 (with or without a byte-order mark) or, once Excel
has re-saved them, UTF-16 (comma or tab separated). UTF-8 files are checked
in a streaming pass (or by DuckDB's reader as it reads them) and read in place; UTF-16 files are transcoded to a
temporary UTF-8 file chunk by chunk. Bytes that are not text in the
detected encoding are reported with their line number.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from m365audit.errors import UsageError

_CHUNK = 16 * 1024 * 1024


class BadFile(UsageError):
    """The whole file cannot be read (encoding, header); the message names file and line."""


@dataclass(frozen=True)
class CsvText:
    path: Path  # a UTF-8 file DuckDB can read (the original, or a transcoded copy)
    encoding: str  # what the original was: utf-8, utf-8-sig, utf-16-le, utf-16-be
    header: list[str]
    delimiter: str


def detect_encoding(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    # UTF-16 without a byte-order mark: ASCII text with every other byte zero.
    sample = head[:512]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4 and sample[0::2].count(0) == 0:
        return "utf-16-le"
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) // 4 and sample[1::2].count(0) == 0:
        return "utf-16-be"
    return "utf-8"


def _decoded_chunks(path: Path, encoding: str) -> Iterator[str]:
    """Text of the file in chunks; undecodable bytes raise BadFile naming the line."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines_before = 0
    with path.open("rb") as f:
        if encoding.startswith("utf-16"):
            bom = f.read(2)
            if bom not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                f.seek(0)
        while True:
            chunk = f.read(_CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                good = decoder.decode(chunk[:exc.start], final=False) if exc.start else ""
                line = lines_before + good.count("\n") + 1
                name = "UTF-8" if encoding.startswith("utf-8") else "UTF-16"
                raise BadFile(f"{path.name} line {line}: the file is not {name} text (it may use another "
                              "encoding; save it as CSV UTF-8 and try again).") from None
            if text:
                lines_before += text.count("\n")
                yield text
            if not chunk:
                return


def prepare(path: Path, workdir: Path, *, check_utf8: bool = True) -> CsvText:
    """Check or transcode ``path``; read its header.

    ``check_utf8=False`` leaves a UTF-8 file's check to a reader that validates as it
    reads (DuckDB's CSV reader with ``encoding='utf-8'``), saving a pass over the file.
    """
    if not path.is_file():
        raise BadFile(f"{path} does not exist or is not a file.")
    encoding = detect_encoding(path)
    if encoding.startswith("utf-16"):
        target = workdir / "transcoded.csv"
        with target.open("w", encoding="utf-8", newline="") as out:
            for text in _decoded_chunks(path, encoding):
                out.write(text)
    else:
        if check_utf8:
            for _ in _decoded_chunks(path, encoding):
                pass
        target = path
    header_line = _first_line(target)
    if not header_line.strip():
        raise BadFile(f"{path.name} line 1: the file is empty; expected a header row.")
    delimiter = "\t" if header_line.count("\t") > header_line.count(",") else ","
    header = next(csv.reader(io.StringIO(header_line), delimiter=delimiter), [])
    return CsvText(target, encoding, [h.strip() for h in header], delimiter)


def _first_line(path: Path) -> str:
    with path.open("rb") as f:
        line = f.readline(1 << 20)  # bytes: decoding a text stream's buffer would read past line 1
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile(f"{path.name} line 1: the file is not UTF-8 text (it may use another encoding; save it "
                      "as CSV UTF-8 and try again).") from None
