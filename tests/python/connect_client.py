"""A Spark Connect client run against a glaux session: python connect_client.py SC_URL [CHECK...].

The e2e tests (cmd/glaux/connect_e2e_test.go, tests/python/test_connect.py) run it with the
pinned pyspark[connect] client of the session runtime (python/requirements.txt), and
TestConnect also with a Spark Connect 3.5 client (python/requirements-connect35.txt). Each CHECK prints one JSON line {"check": NAME, ...}:

  work       spark.range(1000).count(), an SQL query, a Python UDF, and spark.version
  interrupt  a job that would run 120 s, cancelled by interruptAll() from another thread
  sleep=N    one job that runs N seconds (the session is BUSY meanwhile)
  refused    the URL is expected to be refused: prints the error's gRPC status
"""

import json
import sys
import threading
import time

from pyspark.sql import SparkSession
from pyspark.sql.functions import col, udf


def emit(**fields):
    print(json.dumps(fields), flush=True)


def work(spark):
    @udf("long")
    def plus_one(x):
        return x + 1

    total = spark.range(3).select(plus_one(col("id")).alias("v")).groupBy().sum("v").collect()[0][0]
    emit(
        check="work",
        count=int(spark.range(1000).count()),
        sql=int(spark.sql("SELECT 40 + 2 AS answer").collect()[0]["answer"]),
        udf=int(total),  # a NumPy integer from some client versions
        version=spark.version,
    )


def slow_job(spark, seconds):
    @udf("long")
    def slow(x):
        import time

        time.sleep(seconds)
        return x

    return spark.range(1).repartition(1).select(slow(col("id"))).collect()


def interrupt(spark):
    result = {}

    def run():
        start = time.monotonic()
        try:
            slow_job(spark, 120)
            result["error"] = None
        except Exception as e:  # the cancelled job's error
            result["error"] = f"{type(e).__name__}: {str(e)[:300]}"
        result["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(4)  # the job is running by now
    interrupted = spark.interruptAll()
    thread.join(60)
    emit(check="interrupt", interrupted=len(interrupted), finished=not thread.is_alive(), **result)


def refused(spark):
    try:
        spark.range(1).count()
        emit(check="refused", status=None)
    except Exception as e:
        status = getattr(e, "getGrpcStatusCode", lambda: None)()
        emit(check="refused", status=str(status) if status is not None else None, error=f"{type(e).__name__}: {str(e)[:300]}")


def main():
    url, checks = sys.argv[1], sys.argv[2:] or ["work"]
    spark = SparkSession.builder.remote(url).create()
    try:
        for check in checks:
            if check == "work":
                work(spark)
            elif check == "interrupt":
                interrupt(spark)
            elif check.startswith("sleep="):
                start = time.monotonic()
                slow_job(spark, float(check.split("=", 1)[1]))
                emit(check="sleep", elapsed=time.monotonic() - start)
            elif check == "refused":
                refused(spark)
            else:
                raise SystemExit(f"unknown check {check!r}")
    finally:
        try:
            spark.stop()
        except Exception:
            pass


if __name__ == "__main__":
    main()
