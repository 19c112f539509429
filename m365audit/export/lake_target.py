"""Where a Delta export goes: a local folder, OneLake / ADLS Gen2 (``abfss://``) or S3 (``s3://``).

Credentials never pass through a file: for ``abfss://`` a bearer token for Azure Storage
comes from the same azure-identity chain as collection (``--auth``) and is handed to
``deltalake`` as a storage option, in memory only; for ``s3://`` ``deltalake`` reads the
standard AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``) from the environment itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from m365audit.errors import UsageError

STORAGE_SCOPE = "https://storage.azure.com/.default"  # Azure Storage, OneLake included
SCHEMES = ("abfss", "s3")
_ONELAKE_HOST = re.compile(r"(^|\.)onelake\.(dfs|blob)\.fabric\.microsoft\.com$", re.IGNORECASE)
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


@dataclass(frozen=True)
class LakeTarget:
    """The export's root: ``uri`` as deltalake takes it, and the options to reach it."""

    uri: str
    scheme: str  # "file", "abfss" or "s3"
    storage_options: dict[str, str] = field(default_factory=dict, repr=False)  # may hold a token: never logged

    def table_uri(self, name: str) -> str:
        return f"{self.uri.rstrip('/')}/{name}"

    @property
    def local_path(self) -> Path | None:
        return Path(self.uri) if self.scheme == "file" else None


def parse_lake_uri(uri: str) -> tuple[str, str]:
    """(scheme, uri) for a supported target; anything else is one sentence, exit 2."""
    text = uri.strip()
    if not text:
        raise UsageError("The lake URI is empty: give a folder, abfss://… or s3://….")
    if _WINDOWS_DRIVE.match(text) or "://" not in text:
        return "file", str(Path(text).absolute())
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return "file", str(Path(parts.path).absolute())
    if scheme not in SCHEMES:
        raise UsageError(f"The lake URI scheme {scheme!r} is not supported: use a local folder, "
                         "abfss://<container or workspace>@<host>/<path> (OneLake, ADLS Gen2) or s3://<bucket>/<path>.")
    if not parts.netloc or (scheme == "abfss" and "@" not in parts.netloc):
        raise UsageError(f"The lake URI {text!r} names no container and account: write "
                         "abfss://<container or workspace>@<account host>/<path> or s3://<bucket>/<path>.")
    return scheme, text.rstrip("/")


def storage_options(scheme: str, uri: str, credential: Callable[[], Any] | None) -> dict[str, str]:
    """The deltalake storage options for ``uri``; ``credential`` builds the azure-identity credential."""
    if scheme != "abfss":
        return {}  # local files need none; S3 credentials come from the AWS environment variables
    if credential is None:
        raise UsageError("An abfss:// lake needs an Azure credential: pass --auth (as for collection).")
    token = credential().get_token(STORAGE_SCOPE).token
    options = {"bearer_token": token}
    host = urlsplit(uri).netloc.rsplit("@", 1)[-1]
    if _ONELAKE_HOST.search(host):
        options["use_fabric_endpoint"] = "true"
    return options


def credential_for(auth: str) -> Callable[[], Any]:
    """Builds the azure-identity credential of ``--auth`` only when an abfss:// target asks for a token."""

    def build() -> Any:
        from m365audit.collect.auth import make_credential

        return make_credential(auth)

    return build


def lake_target(uri: str, credential: Callable[[], Any] | None = None) -> LakeTarget:
    scheme, normalised = parse_lake_uri(uri)
    target = LakeTarget(normalised, scheme, storage_options(scheme, normalised, credential))
    path = target.local_path
    if path is not None:
        if path.exists() and not path.is_dir():
            raise UsageError(f"Cannot export to {path}: it is a file, not a folder.")
        if not path.parent.is_dir():
            raise UsageError(f"Cannot export to {path}: the folder {path.parent} does not exist.")
    return target
