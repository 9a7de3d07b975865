"""The session's Spark Connect server (engine "Apache Spark version 3.5", docs/connect.md).

It is the SparkConnectService of the spark-connect jar that ships in the pyspark wheel, started
in this driver's JVM through py4j: bound to 127.0.0.1 on a free port, and requiring the
runner's secret as a bearer token (glaux's proxy adds it; clients never see it)."""

import logging
import os
import threading

CONNECT_ENGINE = "Apache Spark version 3.5"
TOKEN_ENV = "GLAUX_CONNECT_TOKEN"

log = logging.getLogger("glaux_runner")


def take_secret():
    """The secret glaux gave this runner, removed from the environment so that Python workers
    and user code's subprocesses do not inherit it."""
    return os.environ.pop(TOKEN_ENV, "")


class Server:
    def __init__(self, spark, secret):
        self.spark = spark
        self.secret = secret
        self.port = 0
        self._lock = threading.Lock()

    def start(self):
        """Starts the server (once); returns its port."""
        with self._lock:
            if self.port:
                return self.port
            sc = self.spark.sparkContext
            jsc = sc._jsc.sc()
            # SparkConnectService reads these from the driver's live SparkConf (SparkEnv's).
            conf = jsc.conf()
            conf.set("spark.connect.grpc.binding.address", "127.0.0.1")
            conf.set("spark.connect.grpc.binding.port", "0")
            conf.set("spark.connect.authenticate.token", self.secret)
            service = sc._jvm.org.apache.spark.sql.connect.service
            service.SparkConnectService.start(jsc)
            module = getattr(getattr(service, "SparkConnectService$"), "MODULE$")
            self.port = int(module.localPort())
            log.info("Spark Connect server listening on 127.0.0.1:%d", self.port)
            return self.port

    def stop(self):
        """Stops a running server (a warm runner bound to a session of another engine)."""
        with self._lock:
            if not self.port:
                return
            jvm = self.spark.sparkContext._jvm
            module = getattr(getattr(jvm.org.apache.spark.sql.connect.service, "SparkConnectService$"), "MODULE$")
            module.stop(getattr(module, "stop$default$1")(), getattr(module, "stop$default$2")())
            self.port = 0
            log.info("Spark Connect server stopped")

    def set_defaults(self, conf):
        """Spark properties for the sessions Spark Connect clients open: each starts from the
        SparkContext's configuration, not from the runner's own session."""
        live = self.spark.sparkContext._jsc.sc().conf()
        for key, value in conf.items():
            live.set(key, value)
