"""`m365audit check --engine spark --lake URI`: a Spark session for the command line.

In a Fabric or Databricks notebook the session already exists and
``m365audit.lakehouse.run_checks_spark(spark, uri, ...)`` is called directly; from the
command line this starts (or joins) one: a local Spark unless ``SPARK_REMOTE`` or the
usual Spark settings say otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from m365audit.checks.model import CheckRun
from m365audit.errors import UsageError
from m365audit.policy import Policy


def spark_session() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("--engine spark needs pyspark and a Java runtime: run ./dev setup-spark "
                         "(or pip install 'm365audit[spark]').") from None
    spark = (SparkSession.builder.appName("m365audit check")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
             .config("spark.sql.session.timeZone", "UTC")
             # Tables read as file lists (a local Spark without a Delta reader): list them in the
             # driver rather than with a Spark job per table.
             .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def check_lake(uri: str, policy: Policy, checked_at: datetime, auth: str) -> CheckRun:
    from deltalake import DeltaTable

    from m365audit.export.delta_state import STATE_TABLE
    from m365audit.export.lake_target import credential_for, lake_target
    from m365audit.lakehouse.spark import run_checks_spark

    target = lake_target(uri, credential_for(auth))
    if not DeltaTable.is_deltatable(target.table_uri(STATE_TABLE), target.storage_options):
        raise UsageError(f"{target.uri} holds no m365audit Delta export: run `m365audit export delta {uri}` first.")
    spark = spark_session()
    return run_checks_spark(spark, target.uri, policy, checked_at=checked_at, storage_options=target.storage_options)
