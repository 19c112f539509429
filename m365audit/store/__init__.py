"""The DuckDB file: schema migrations, runs, loading and the public views."""

from m365audit.store.db import DEFAULT_DB, open_db

__all__ = ["DEFAULT_DB", "open_db"]
