"""The runner's Python children (glaux_runner.children) end with the runner."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
from conftest import PYTHON_DIR

sys.path.insert(0, str(PYTHON_DIR))  # the runner's package, as the runner sees it
from glaux_runner import children  # noqa: E402


def _alive(pid):
    """Whether pid is a live process (a zombie is dead: it only waits to be reaped)."""
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def _wait_file(path, timeout):
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path} was not written"
        time.sleep(0.02)
    return path.read_text()


def test_child_dies_with_a_killed_runner(tmp_path):
    # A stand-in runner: starts a child through children.run that would sleep for a minute.
    pid_file = tmp_path / "child.pid"
    child_code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    runner = subprocess.Popen([sys.executable, "-c", f"from glaux_runner import children; children.run({child_code!r}, check=True)"],
                              cwd=PYTHON_DIR, env={**os.environ, "PYTHONPATH": str(PYTHON_DIR)})
    try:
        child = int(_wait_file(pid_file, 30))
        assert _alive(child)
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(child):
            assert time.monotonic() < deadline, f"the child {child} outlived its killed runner"
            time.sleep(0.02)
    finally:
        runner.kill()
        runner.wait()


def test_run_reports_the_childs_failure():
    with pytest.raises(subprocess.CalledProcessError) as failed:
        children.run("import sys; sys.stderr.write('broken'); sys.exit(3)", timeout=30, check=True, capture_output=True)
    assert failed.value.returncode == 3
    assert failed.value.stderr == b"broken"


def test_run_passes_arguments_and_environment():
    done = children.run("import os, sys; print(sys.argv[1:], os.environ['X'])", ["a", "b"], env={**os.environ, "X": "y"},
                        timeout=30, check=True, capture_output=True, text=True)
    assert done.stdout == "['a', 'b'] y\n"


def test_pip_runs_as_python_m_pip():
    done = children.run(children.PIP, ["--version"], timeout=60, check=True, capture_output=True, text=True)
    assert done.stdout.startswith("pip ")
