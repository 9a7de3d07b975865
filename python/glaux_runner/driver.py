"""The real PySpark driver (imported only outside fake mode)."""

import os
import sys

from pyspark import SparkContext  # noqa: F401 (part of this module's interface, see __main__)
from pyspark.logger import PySparkLogger
from pyspark.sql import SparkSession


def start(conf):
    # Python workers (UDFs, RDD lambdas) must run this interpreter, with its packages.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    # PySpark 4 logs every SQL error again, as JSON with the JVM stack: that belongs in the
    # runner log, not before the traceback in the user's stderr.
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        for handler in PySparkLogger.getLogger(name).handlers:
            handler.setStream(sys.__stderr__)
    return spark


def cancel(sc, group):
    """Cancels the job group's jobs, and those it submits later: the calculation's code may
    start another job before the KeyboardInterrupt reaches it."""
    sc._jsc.sc().cancelJobGroupAndFutureJobs(group, "the calculation was stopped")


def drop_interrupted_call(sc):
    """Closes the main thread's py4j connection if a KeyboardInterrupt cut a call short.

    py4j then tries to shut the connection down, but that can fail half-way and leave it as
    the thread's connection with a closed stream, so the next call would fail. A connection
    between calls sits in the client's pool; one missing from it was cut short."""
    client = sc._gateway._gateway_client
    connection = client.get_thread_connection()
    if connection is not None and connection not in client.deque:
        connection.close()
