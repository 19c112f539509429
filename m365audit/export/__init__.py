"""Exports of the database for other engines (Parquet for Spark, Trino, Microsoft Fabric)."""
