"""Reports computed from the DuckDB file: licence summaries, manager reports."""
