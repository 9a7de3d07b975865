"""Helpers of the boto3 / AWS CLI suite: a `glaux serve` process, an `aws` runner, polling."""

import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = REPO / "bin" / "glaux"
REGION = "us-east-1"
ENDPOINT_RE = re.compile(r"endpoint=(http://127\.0\.0\.1:\d+)")
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/glaux-tests"
SPARK_ENGINE = "PySpark engine version 3"
FINAL_CALC_STATES = {"COMPLETED", "FAILED", "CANCELED"}


def unique(prefix):
    """A fresh resource name: tests share a server, so every test names its own things."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def spark_workgroup_config(**extra):
    cfg = {"EngineVersion": {"SelectedEngineVersion": SPARK_ENGINE}, "ExecutionRole": EXECUTION_ROLE}
    cfg.update(extra)
    return cfg


def notebook_json(*sources):
    """An nbformat 4 document with one code cell per source."""
    return json.dumps({
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": src}
            for i, src in enumerate(sources)
        ],
        "metadata": {"kernelspec": {"display_name": "PySpark", "language": "python", "name": "pyspark"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    })


def wait_for(fn, timeout, interval=0.2, what="condition"):
    """Calls fn until it returns something truthy; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


def wait_session_state(client, session_id, states, timeout):
    """Polls GetSessionStatus until the state is one of states; returns the Status."""
    states = set(states)
    seen = []

    def poll():
        st = client.get_session_status(SessionId=session_id)["Status"]
        seen.append(st["State"])
        return st if st["State"] in states else None

    return wait_for(poll, timeout, interval=0.25, what=f"session {session_id} to reach {sorted(states)} (seen {seen[-3:]})")


def wait_calculation(client, calc_id, timeout, states=FINAL_CALC_STATES):
    """Polls GetCalculationExecutionStatus until the state is in states; returns GetCalculationExecution."""
    states = set(states)

    def poll():
        st = client.get_calculation_execution_status(CalculationExecutionId=calc_id)["Status"]
        return st if st["State"] in states else None

    wait_for(poll, timeout, interval=0.2, what=f"calculation {calc_id} to reach {sorted(states)}")
    return client.get_calculation_execution(CalculationExecutionId=calc_id)


def runner_python():
    return os.environ.get("GLAUX_PYTHON") or sys.executable


def build_if_missing():
    if BIN.exists():
        return BIN
    go = shutil.which("go")
    if go is None:
        pytest.fail(f"{BIN} is missing and there is no `go` on PATH to build it")
    BIN.parent.mkdir(exist_ok=True)
    subprocess.run([go, "build", "-o", str(BIN), "./cmd/glaux"], cwd=REPO, check=True, timeout=900)
    return BIN


# --------------------------------------------------------------------------- processes


def _processes_mentioning(text):
    """PIDs (other than ours) whose command line or environment contains text."""
    found = []
    needle = text.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        for part in ("cmdline", "environ"):
            try:
                with open(f"/proc/{entry}/{part}", "rb") as f:
                    if needle in f.read():
                        found.append(int(entry))
                        break
            except OSError:  # gone meanwhile, or not ours to read
                break
    return found


def _descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class GlauxServer:
    """One `glaux serve` on 127.0.0.1:0 with its own data dir; stderr goes to <data dir>.log."""

    def __init__(self, binary, data_dir, fake_spark, extra_args=()):
        self.data_dir = pathlib.Path(data_dir)
        self.log_path = self.data_dir.parent / (self.data_dir.name + ".log")
        args = [
            str(binary), "serve", "--addr", "127.0.0.1:0", "--data-dir", str(self.data_dir),
            "--python", runner_python(),
            # Runners as glaux's own user: the data dir is a private temp dir.
            "--runner-user=",
            *extra_args,
        ]
        if fake_spark:
            args.append("--fake-spark")
        # No GLAUX_* settings of the caller (they would override ours), no AWS secrets.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GLAUX_", "AWS_"))}
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=self._log, stdin=subprocess.DEVNULL, env=env)
        self.endpoint = self._wait_endpoint(timeout=60)

    def _wait_endpoint(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = ENDPOINT_RE.search(self.log())
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                self._log.close()
                raise RuntimeError(f"glaux exited with {self.proc.returncode} before serving:\n{self.log()}")
            time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()
        self._log.close()
        raise RuntimeError(f"glaux logged no endpoint= line within {timeout}s:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace")

    def object_path(self, uri):
        """Where the object of an s3://bucket/key URI lives in the data dir."""
        m = re.fullmatch(r"s3://([^/]+)/(.+)", uri)
        assert m, f"not an s3:// object URI: {uri!r}"
        return self.data_dir / "objects" / m.group(1) / m.group(2)

    def read_object(self, uri):
        path = self.object_path(uri)
        assert path.is_file(), f"{uri} is not in the object directory ({path})"
        return path.read_text()

    def stop(self):
        """SIGTERM, wait for a clean exit, then check that no runner or JVM outlived glaux."""
        if self.proc.poll() is not None:
            self._log.close()
            raise AssertionError(f"glaux died during the tests (exit {self.proc.returncode}):\n{self.log()[-5000:]}")
        before = _descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"glaux did not exit within 60s of SIGTERM:\n{self.log()[-5000:]}")
        finally:
            self._log.close()
        # Anything of this server (runner, JVM, Python workers) has the data dir in its
        # environment (TMPDIR) or command line; allow a moment for the kernel to reap.
        deadline = time.monotonic() + 5
        while True:
            left = [p for p in set(before) | set(_processes_mentioning(str(self.data_dir))) if _alive(p)]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        described = {p: _cmdline(p) for p in left}
        for pid in left:  # we fail anyway: do not leak them into the next run
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        assert rc == 0, f"glaux exited with {rc} after SIGTERM:\n{self.log()[-5000:]}"
        assert not left, f"processes of glaux outlived it: {described}\n{self.log()[-5000:]}"


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        return "?"


# --------------------------------------------------------------------------- AWS CLI


def aws_executable():
    found = shutil.which("aws")
    if found:
        return found
    beside = pathlib.Path(sys.executable).parent / "aws"
    if beside.exists():
        return str(beside)
    pytest.fail("the AWS CLI (`aws`) is neither on PATH nor beside the test interpreter")


class AwsCli:
    """Runs `aws athena <command> ... --endpoint-url <server> --output json`."""

    def __init__(self, server, env):
        self.server = server
        self.env = env
        self.exe = aws_executable()

    def run(self, command, *args):
        argv = [self.exe, "athena", command, *map(str, args), "--endpoint-url", self.server.endpoint, "--output", "json"]
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    def __call__(self, command, *args):
        """Runs a command that must succeed; returns its JSON output ({} when it prints nothing)."""
        p = self.run(command, *args)
        assert p.returncode == 0, f"aws athena {command} failed ({p.returncode}):\nstdout: {p.stdout}\nstderr: {p.stderr}"
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def fails(self, command, *args):
        """Runs a command that must fail; returns (exit code, stderr)."""
        p = self.run(command, *args)
        assert p.returncode != 0, f"aws athena {command} succeeded but should have failed:\n{p.stdout}"
        return p.returncode, p.stderr
