"""Errors the tool reports to its user as one sentence and an exit code.

Exit codes are a public interface (see ../shared/DESIGN.md):
0 done; 1 findings at or above --fail-on; 2 bad usage, config or input file
(nothing written); 3 collection failed (nothing half-written).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_COLLECTION = 3


class M365AuditError(Exception):
    """An error with a message meant for the operator, and its exit code."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(M365AuditError):
    """Bad options, configuration, policy or input file. Nothing was written."""

    exit_code = EXIT_USAGE


class DatabaseError(M365AuditError):
    """The DuckDB file cannot be used (locked, newer version, corrupt)."""

    exit_code = EXIT_USAGE


class CollectionError(M365AuditError):
    """Collecting from Microsoft Graph failed. The run is recorded as failed."""

    exit_code = EXIT_COLLECTION


class CollectionStopped(CollectionError):
    """SIGINT or SIGTERM stopped a collection; what landed is committed. Not retried within the run."""
