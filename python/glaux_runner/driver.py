"""The real PySpark driver (imported only outside fake mode)."""

import os
import sys

from pyspark import SparkContext  # noqa: F401 (part of this module's interface, see __main__)
from pyspark.sql import SparkSession


def start(conf):
    # Python workers (UDFs, RDD lambdas) must run this interpreter, with its packages.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def drop_interrupted_call(sc):
    """Closes the main thread's py4j connection if a KeyboardInterrupt cut a call short.

    Such a connection is still waiting for the JVM's answer (and the traceback keeps it
    alive), so the next call would read that late answer instead of its own. A connection
    between calls sits in the client's pool; one missing from it was interrupted."""
    client = sc._gateway._gateway_client
    connection = client.get_thread_connection()
    if connection is not None and connection not in client.deque:
        connection.close()
