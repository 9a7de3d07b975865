"""python -m glaux_runner: one session's PySpark driver and IPython shell, speaking the runner
protocol (docs/runner-protocol.md) with glaux over fds 3 and 4."""

import datetime
import functools
import json
import logging
import os
import queue
import signal
import sys
import time

# Before anything imports matplotlib: figures are rendered headless and captured.
os.environ["MPLBACKEND"] = "module://glaux_runner.mplbackend"

from . import connect, dataframes, magics, packages, progress  # noqa: E402
from .interrupt import Interrupter, start_thread  # noqa: E402
from .protocol import Channel  # noqa: E402
from .shell import Shell  # noqa: E402

EXIT_GRACE = 10  # seconds the runner may take to stop after glaux went away

log = logging.getLogger("glaux_runner")


class Runner:
    def __init__(self, channel, engine, spark, shell, session, connect_server=None):
        self.channel = channel
        self.connect = connect_server  # the Spark Connect server, None when it runs none
        self.engine = engine
        self.spark = spark
        self.session = session
        self.sc = spark.sparkContext
        self.shell = shell
        self.interrupter = Interrupter(functools.partial(engine.cancel, self.sc))

    def serve(self):
        """Runs commands until shutdown or until glaux closes fd 3."""
        commands = queue.Queue()
        start_thread(self._read, commands, name="glaux-commands")
        while (command := commands.get()) is not None:
            if command["type"] == "execute":
                self.execute(command)
            elif command["type"] == "bind":
                self.bind(command)
            elif command["type"] == "shutdown":
                return
            else:
                log.error("ignoring unknown command %r", command["type"])

    def _read(self, commands):
        for command in self.channel.commands():
            if command["type"] == "ping":  # answered here: the main thread may be busy
                self.channel.send("pong")
                continue
            if command["type"] == "shutdown":
                self.interrupter.close()  # shutting down does not wait for the calculation
            commands.put(command)
        # EOF: glaux is gone, and the runner must never outlive it.
        self.interrupter.close()
        commands.put(None)
        time.sleep(EXIT_GRACE)
        log.error("still running %ss after glaux went away; exiting", EXIT_GRACE)
        os._exit(1)

    def bind(self, command):
        """A warm runner is handed to a session: it takes the session's identity and applies
        the session's Spark properties that can change at run time."""
        self.session.id = command.get("session_id", "")
        self.session.workgroup = command.get("workgroup", "")
        self.session.engine_version = command.get("engine_version", "")
        self.session.started = datetime.datetime.now(datetime.timezone.utc)
        conf = command.get("conf") or {}
        wants_connect = self.session.engine_version == connect.CONNECT_ENGINE
        try:
            for key, value in conf.items():
                self.spark.conf.set(key, value)
            if wants_connect:
                if self.connect is None or not self.connect.port:
                    raise RuntimeError("this runner has no Spark Connect server")
                self.connect.set_defaults(conf)
        except Exception as e:
            log.exception("binding to session %s", self.session.id)
            self.channel.send("bound", error=f"{type(e).__name__}: {_without_java_frames(str(e))}")
            return
        log.info("bound to session %s", self.session.id)
        if wants_connect:
            self.channel.send("bound", connect_port=self.connect.port)
            return
        self.channel.send("bound")
        if self.connect is not None:  # a session of the calculations engine needs none
            server, self.connect = self.connect, None
            start_thread(server.stop, name="glaux-connect-stop")

    def _set_job_group(self, calculation_id):
        """The first JVM call after an interrupted one may find py4j's connection gone
        ("Answer from Java side is empty"); py4j opens a new one on the next call."""
        for attempt in (1, 2):
            try:
                self.sc.setJobGroup(calculation_id, f"calculation {calculation_id}", interruptOnCancel=True)
                return
            except Exception as e:
                if attempt == 2 or "Py4JNetworkError" not in type(e).__name__:
                    raise
                log.warning("py4j connection lost before calculation %s; retrying", calculation_id)

    def execute(self, command):
        calculation_id = command["id"]
        self.interrupter.starting(calculation_id)  # a SIGINT upon `started` is not lost
        self.channel.send("started", id=calculation_id)
        try:
            # Job groups are thread-local: set it on the thread that runs the code.
            self._set_job_group(calculation_id)
            with progress.reporting(self.sc, calculation_id, self.channel.send):
                status, error = self.shell.run(
                    calculation_id, command["code"], command["dir"], self.interrupter.calculation(calculation_id)
                )
        except Exception as e:  # the runner's own failure (say, an unwritable dir): still answer
            log.exception("calculation %s failed in the runner", calculation_id)
            status, error = "error", e
        finally:
            self.engine.drop_interrupted_call(self.sc)
        fields = {} if error is None else {"ename": type(error).__name__, "evalue": str(error)}
        self.channel.send("done", id=calculation_id, status=status, **fields)


def start(session, overlay):
    """Starts Spark with the session's package overlay; returns (engine module, spark)."""
    if os.environ.get("GLAUX_FAKE_SPARK", "0") not in ("", "0"):
        from . import fakespark as engine
    else:
        from . import driver as engine
    conf = {
        "spark.app.name": f"glaux-{session.id}",
        "spark.ui.showConsoleProgress": "false",  # progress goes to glaux, not into the log
        **json.loads(os.environ.get("GLAUX_SPARK_CONF") or "{}"),
    }
    return engine, engine.start(overlay.prepare(conf))


def main():
    handler = logging.StreamHandler(sys.__stderr__)  # the runner log, even during calculations
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # user code's logging setup must not see the runner's records
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # nothing to interrupt until a calculation runs

    channel = Channel()
    session = magics.SessionInfo(
        id=os.environ.get("GLAUX_SESSION_ID", ""),
        workgroup=os.environ.get("GLAUX_WORKGROUP", ""),
        engine_version=os.environ.get("GLAUX_ENGINE_VERSION", ""),
        started=datetime.datetime.now(datetime.timezone.utc),
    )
    try:
        overlay = packages.Overlay()
        engine, spark = start(session, overlay)
        sc = spark.sparkContext
        overlay.bind(sc)
        shell = Shell.create({"spark": spark, "sc": sc, "SparkSession": engine.SparkSession, "SparkContext": engine.SparkContext})
        magics.register(shell, spark, session, overlay)
        dataframes.register_formatter(shell)
        connect_server, connect_port = None, 0
        secret = connect.take_secret()
        fake = engine.__name__.endswith("fakespark")
        # glaux gives a secret to the runners of Spark Connect sessions, and to warm runners
        # (which may be bound to one: they start the server now, so binding costs nothing).
        if secret and not fake:
            connect_server = connect.Server(spark, secret)
            try:
                connect_port = connect_server.start(warm_up=session.engine_version != connect.CONNECT_ENGINE)
            except Exception:
                if session.engine_version == connect.CONNECT_ENGINE:
                    raise
                log.exception("the warm runner's Spark Connect server did not start")
                connect_server = None
        runner = Runner(channel, engine, spark, shell, session, connect_server)
    except Exception as e:
        log.exception("the session did not start")
        channel.send("failed", ename=type(e).__name__, evalue=_without_java_frames(str(e)))
        return 1
    channel.send("ready", spark_version=spark.version, app_id=sc.applicationId, ui_url=sc.uiWebUrl, connect_port=connect_port)
    runner.serve()
    if runner.connect is not None:
        try:
            runner.connect.stop()  # its gRPC server would hold spark.stop() up
        except Exception:
            log.exception("stopping the Spark Connect server")
    spark.stop()
    return 0


def _without_java_frames(message):
    """A JVM error's message without its stack (which the runner log keeps)."""
    return "\n".join(line for line in message.splitlines() if not line.startswith("\tat ")).strip()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # threads that user code started must not keep the runner alive
