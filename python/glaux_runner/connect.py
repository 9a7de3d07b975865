"""The session's Spark Connect server (engine "Apache Spark version 3.5", docs/connect.md).

It is the SparkConnectService of the spark-connect jar that ships in the pyspark wheel, started
in this driver's JVM through py4j: bound to 127.0.0.1 on a free port, and requiring the
runner's secret as a bearer token (glaux's proxy adds it; clients never see it)."""

import logging
import os
import subprocess
import threading

from . import children

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

    def start(self, warm_up=False):
        """Starts the server (once); returns its port. warm_up (for a warm runner, whose start
        nobody waits for) runs one query through it first."""
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
            if warm_up:
                self._warm_up()
            return self.port

    def _warm_up(self):
        """One query through the server from a client process, so that the session's first
        request does not pay for loading and compiling the server's code path (seconds).
        (Host localhost: PySpark sends a token without TLS only there.) A separate process:
        a Spark Connect client in this one would switch PySpark's
        global mode to remote for the user's code."""
        env = {**os.environ, "GLAUX_WARMUP_URL": f"sc://localhost:{self.port}/;use_ssl=false;token={self.secret}"}
        code = (
            "import os; from pyspark.sql.connect.session import SparkSession as S; "
            "s = S.builder.remote(os.environ['GLAUX_WARMUP_URL']).create(); "
            "s.range(10).count(); s.sql('SELECT 1').collect(); s.stop()"
        )
        try:
            children.run(code, env=env, timeout=120, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except Exception as e:  # the server works without it; the first request is slower
            log.warning("warming up the Spark Connect server failed: %s", getattr(e, "stderr", b"")[-2000:] or e)

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
