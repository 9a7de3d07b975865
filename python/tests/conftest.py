"""Drives a real runner subprocess over fds 3 and 4, as glaux does."""

import fcntl
import json
import os
import pathlib
import queue
import subprocess
import sys
import threading
import time
import uuid

import pytest

PYTHON_DIR = pathlib.Path(__file__).resolve().parent.parent


def pytest_configure(config):
    config.addinivalue_line("markers", "spark: starts a real PySpark driver (needs Java; tens of seconds)")


# Puts the pipe ends on fds 3 and 4 (as Go's ExtraFiles does), then becomes the runner.
_WIRE = """
import os, sys
command_r, event_w = map(int, sys.argv[1:])
os.dup2(command_r, 3)
os.dup2(event_w, 4)
os.close(command_r)
os.close(event_w)
os.execv(sys.executable, [sys.executable, "-m", "glaux_runner"])
"""


def _high(fd):
    """Moves fd to 10 or above, so placing the pipes on fds 3 and 4 cannot clobber them."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Runner:
    def __init__(self, tmp_path, fake=True, spark_conf=None, env=None):
        self.dir = tmp_path
        command_r, self._command_w = map(_high, os.pipe())
        self._event_r, event_w = map(_high, os.pipe())
        environment = dict(
            os.environ,
            PYTHONPATH=str(PYTHON_DIR),
            GLAUX_SESSION_ID="test-session",
            GLAUX_WORKGROUP="primary",
            GLAUX_ENGINE_VERSION="PySpark engine version 3",
            GLAUX_SPARK_CONF=json.dumps(spark_conf or {}),
        )
        environment.pop("GLAUX_FAKE_SPARK", None)
        if fake:
            environment["GLAUX_FAKE_SPARK"] = "1"
        environment.update(env or {})
        self.log_path = tmp_path / "runner.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _WIRE, str(command_r), str(event_w)],
                pass_fds=(command_r, event_w),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                cwd=tmp_path,  # where Spark may leave spark-warehouse/ and the like
                start_new_session=True,  # its own process group, as glaux starts it
            )
        os.close(command_r)
        os.close(event_w)
        self.events = queue.Queue()
        threading.Thread(target=self._read_events, daemon=True).start()

    def _read_events(self):
        with os.fdopen(self._event_r, encoding="utf-8") as events:
            for line in events:
                self.events.put(json.loads(line))
        self.events.put(None)  # EOF

    def send(self, **command):
        self.send_line(json.dumps(command))

    def send_line(self, line):
        os.write(self._command_w, (line + "\n").encode())

    def close_commands(self):
        os.close(self._command_w)

    def next_event(self, timeout=10):
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout}s; runner log:\n{self.log()}") from None

    def wait_for(self, type, timeout=10):
        """Returns the next event of this type; fails if the runner's events end first."""
        while True:
            event = self.next_event(timeout)
            assert event is not None, f"runner closed fd 4; log:\n{self.log()}"
            if event["type"] == type:
                return event

    def start(self, code):
        """Sends an execute command and waits until it started; returns the calculation."""
        calculation = Calculation(self.dir / uuid.uuid4().hex, code)
        self.send(type="execute", id=calculation.id, code=code, dir=str(calculation.dir))
        assert self.wait_for("started")["id"] == calculation.id
        return calculation

    def run(self, code, timeout=10):
        """Runs code to its end; returns the calculation with its done event and files."""
        calculation = self.start(code)
        calculation.done = self.wait_for("done", timeout)
        assert calculation.done["id"] == calculation.id
        return calculation

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
        self.proc.wait()


class Calculation:
    def __init__(self, dir, code):
        self.id = str(uuid.uuid4())
        self.dir = dir
        self.code = code
        self.done = None

    def wait_stdout(self, text, timeout=10):
        """Waits until the calculation's stdout holds text (what its code flushed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            path = self.dir / "stdout.txt"
            if path.exists() and text in path.read_text(encoding="utf-8"):
                return
            time.sleep(0.01)
        raise AssertionError(f"stdout of {self.id} never held {text!r}")

    @property
    def stdout(self):
        return (self.dir / "stdout.txt").read_text(encoding="utf-8")

    @property
    def stderr(self):
        return (self.dir / "stderr.txt").read_text(encoding="utf-8")

    @property
    def result(self):
        return json.loads((self.dir / "result.json").read_text(encoding="utf-8"))


@pytest.fixture
def start_runner(tmp_path):
    runners = []

    def start(**kwargs):
        runner = Runner(tmp_path, **kwargs)
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        runner.stop()
