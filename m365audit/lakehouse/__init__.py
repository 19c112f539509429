"""The audit data in a lakehouse: the checks on Spark over the Delta tables `export delta` writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from m365audit.checks.model import CheckRun


def run_checks_spark(spark: Any, lake_uri: str, *args: Any, **kwargs: Any) -> CheckRun:
    """See ``m365audit.lakehouse.spark.run_checks_spark`` (imported lazily: pyspark is optional)."""
    from m365audit.lakehouse.spark import run_checks_spark as run

    return run(spark, lake_uri, *args, **kwargs)
