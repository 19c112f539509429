"""Stable keyed pseudonyms for names and addresses in reports (--pseudonymise).

A pseudonym is HMAC-SHA256 of the lower-cased sign-in name (or name) under a
key the organisation keeps outside the report, so the same person has the same
pseudonym in every table and every night's report, and nobody without the key
can reverse it or test a guess. The key comes from M365AUDIT_PSEUDONYM_KEY, or
from a file named by M365AUDIT_PSEUDONYM_KEY_FILE; a key file inside the
report folder would ship the key with the report, so it is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import polars as pl

from m365audit import environment
from m365audit.errors import UsageError
from m365audit.report.model import Table

KEY_ENV = environment.PSEUDONYM_KEY.name
KEY_FILE_ENV = environment.PSEUDONYM_KEY_FILE.name
MIN_KEY_BYTES = 16
FREE_TEXT = ("subject", "detail")  # columns where only the addresses inside are personal
_ADDRESS = re.compile(r"[\w.'+#-]+@[\w-]+(?:\.[\w-]+)+")


def load_key(out: Path) -> bytes:
    """The pseudonym key, or a UsageError (exit 2) saying how to provide one."""
    key = (environment.PSEUDONYM_KEY.raw() or "").encode()
    path = environment.PSEUDONYM_KEY_FILE.raw()
    if not key and path:
        key_path = Path(path).expanduser().resolve()
        if key_path.is_relative_to(out.resolve()):
            raise UsageError(f"The pseudonym key file {key_path} is inside the report folder {out}; keep it "
                             "elsewhere so the key never travels with the report.")
        try:
            key = key_path.read_bytes().strip()
        except OSError as exc:
            raise UsageError(f"The pseudonym key file {key_path} cannot be read: {exc.strerror}.") from None
    if not key:
        raise UsageError(f"--pseudonymise needs a secret key: set {KEY_ENV}, or {KEY_FILE_ENV} to a file outside "
                         "the report folder (e.g. `openssl rand -hex 32 > ~/.m365audit-pseudonym.key`).")
    if len(key) < MIN_KEY_BYTES:
        raise UsageError(f"The pseudonym key is {len(key)} bytes long; use at least {MIN_KEY_BYTES} random bytes.")
    return key


class Pseudonymiser:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def pseudonym(self, value: str) -> str:
        digest = hmac.new(self._key, value.strip().casefold().encode(), hashlib.sha256).hexdigest()
        return f"person-{digest[:12]}"

    def replace_addresses(self, text: str) -> str:
        """Free text (a finding's detail) with every e-mail-like address replaced by its pseudonym."""
        return _ADDRESS.sub(lambda m: self.pseudonym(m.group(0)), text)

    def table(self, table: Table) -> Table:
        """The table with its personal columns replaced.

        A row's people are keyed by their sign-in name when the table has one, so
        the display name and the address of one person become the same pseudonym.
        """
        personal = [c.name for c in table.columns if c.personal]
        if not personal or table.frame.height == 0:
            return table
        frame = table.frame
        anchor = "user_principal_name" if "user_principal_name" in personal else None
        exprs = []
        for name in personal:
            source = anchor if anchor and name in ("display_name", anchor) else name
            if name in FREE_TEXT:
                exprs.append(pl.col(name).map_elements(self.replace_addresses, return_dtype=pl.String))
            else:
                exprs.append(pl.col(source).map_elements(self.pseudonym, return_dtype=pl.String).alias(name))
        return Table(table.key, table.title, table.columns, frame.with_columns(exprs), table.description)
