"""GLAUX_FAKE_SPARK=1: tiny stand-ins for `spark` and `sc`, so the protocol can be tested in
milliseconds without Java or a PySpark import. They mirror the real API where tests touch it."""

import os
import time


_STATIC = {"spark.sql.warehouse.dir", "spark.sql.filesourceTableRelationCacheSize"}


class SparkConf:
    def __init__(self, conf):
        self._conf = dict(conf)

    def get(self, key, default=None):
        return self._conf.get(key, default)

    def set(self, key, value):
        # As Spark does for static properties (a few real ones, for the warm-pool tests).
        if key.startswith("spark.master") or key in _STATIC:
            raise ValueError(f"Cannot modify the value of a static config: {key}")
        self._conf[key] = value


class DataFrame:
    def __init__(self, n):
        self._n = n

    def count(self):
        return self._n


class StatusTracker:
    def getJobIdsForGroup(self, group):
        return []


class SparkContext:
    version = "fake"
    uiWebUrl = None

    def __init__(self, conf):
        self.applicationId = f"fake-{os.getpid()}"
        self._conf = conf
        self._local = {}
        self.cancelled_groups = []  # lets tests see that an interrupt cancelled the job group

    def getConf(self):
        return self._conf

    def setJobGroup(self, groupId, description, interruptOnCancel=False):
        # GLAUX_FAKE_SPARK_CALL_DELAY: seconds a py4j round trip takes, so tests can widen
        # the gap between `started` and the code's start.
        time.sleep(float(os.environ.get("GLAUX_FAKE_SPARK_CALL_DELAY") or 0))
        self._local["spark.jobGroup.id"] = groupId
        self._local["spark.job.description"] = description

    def getLocalProperty(self, key):
        return self._local.get(key)

    def cancelJobGroup(self, groupId):
        self.cancelled_groups.append(groupId)

    def setLogLevel(self, level):
        pass

    def statusTracker(self):
        return StatusTracker()

    def stop(self):
        pass


class SparkSession:
    version = "fake"

    def __init__(self, sc):
        self.sparkContext = sc
        self.conf = sc.getConf()

    def range(self, start, end=None, step=1, numPartitions=None):
        return DataFrame(len(range(start) if end is None else range(start, end, step)))

    def sql(self, query):
        raise NotImplementedError("fake Spark has no SQL engine")

    def stop(self):
        self.sparkContext.stop()


def start(conf):
    return SparkSession(SparkContext(SparkConf(conf)))


def cancel(sc, group):
    sc.cancelJobGroup(group)


def drop_interrupted_call(sc):
    """Nothing to drop: fake calls are not remote."""
