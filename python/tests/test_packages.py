"""%pip in a runner (fake Spark: pip itself is real): the session's overlay, never the
shared environment."""

import base64
import hashlib
import os
import sys
import sysconfig
import zipfile

import pytest
from conftest import Runner


def make_wheel(directory, name="glauxpipdemo", version="1.0", value=42):
    """Writes a pure-Python wheel by hand (no network, no build backend)."""
    files = {
        f"{name}/__init__.py": f"VALUE = {value}\n",
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: glaux-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = f"{name}-{version}.dist-info/RECORD"
    lines = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(text.encode())}")
    lines.append(f"{record},,")
    files[record] = "\n".join(lines) + "\n"
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for p, text in files.items():
            z.writestr(p, text)
    return path


def snapshot(directory):
    """Every path below directory with its size and mtime."""
    out = {}
    for top, dirs, files in os.walk(directory):
        for f in dirs + files:
            p = os.path.join(top, f)
            st = os.lstat(p)
            out[p] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    runner = Runner(tmp_path_factory.mktemp("pip"), fake=True)
    runner.wait_for("ready")
    yield runner
    runner.stop()


def test_pip_installs_into_the_overlay_only(runner, tmp_path):
    wheel = make_wheel(tmp_path)
    site = sysconfig.get_paths()["purelib"]
    before = snapshot(site)
    c = runner.run(f"%pip install --no-index {wheel}\nimport glauxpipdemo\nprint(glauxpipdemo.VALUE, glauxpipdemo.__file__)", timeout=120)
    assert c.done["status"] == "ok", c.stderr
    assert "Successfully installed glauxpipdemo-1.0" in c.stdout
    assert f"42 {runner.dir / 'pip-overlay' / 'glauxpipdemo' / '__init__.py'}" in c.stdout
    assert snapshot(site) == before  # the shared environment is untouched

    c = runner.run("%pip list", timeout=120)
    assert c.done["status"] == "ok", c.stderr
    assert any(line.split()[:2] == ["glauxpipdemo", "1.0"] for line in c.stdout.splitlines())
    # a subprocess of the calculation sees the session's packages too
    c = runner.run("import subprocess, sys\nprint(subprocess.check_output([sys.executable, '-c', 'import glauxpipdemo; print(glauxpipdemo.VALUE)'], text=True))", timeout=60)
    assert c.stdout.strip() == "42", c.stderr

    # a newer version replaces the first
    newer = make_wheel(tmp_path, version="2.0", value=43)
    c = runner.run(f"%pip install --no-index {newer}\nimport glauxpipdemo, importlib\nprint(importlib.reload(glauxpipdemo).VALUE)", timeout=120)
    assert c.done["status"] == "ok", c.stderr
    assert c.stdout.strip().endswith("43")

    c = runner.run("%pip uninstall -y glauxpipdemo", timeout=60)
    assert c.done["status"] == "ok", c.stderr
    assert "Successfully uninstalled glauxpipdemo-2.0" in c.stdout
    assert sorted(os.listdir(runner.dir / "pip-overlay")) == []
    assert snapshot(site) == before


def test_a_bad_package_fails_with_pips_message_and_the_session_goes_on(runner):
    c = runner.run("%pip install --no-index glaux-no-such-package", timeout=120)
    assert c.done["status"] == "error"
    assert c.done["ename"] == "PipError"
    assert "No matching distribution found for glaux-no-such-package" in c.done["evalue"]
    assert "No matching distribution found" in c.stderr
    c = runner.run("print(1 + 1)")
    assert c.done["status"] == "ok" and c.stdout == "2\n"


def test_pip_refuses_the_shared_environment(runner):
    c = runner.run("%pip uninstall -y pandas", timeout=60)
    assert c.done["status"] == "error"
    assert "shared environment" in c.done["evalue"]
    for option in ("--user", "--target=/tmp/x", "--prefix /tmp/x"):
        c = runner.run(f"%pip install {option} foo", timeout=60)
        assert c.done["status"] == "error" and "overlay" in c.done["evalue"], option
    c = runner.run("%pip config set global.index-url x", timeout=60)
    assert c.done["status"] == "error" and "not available" in c.done["evalue"]
    c = runner.run("import pandas\nprint(pandas.__file__)", timeout=60)
    assert c.stdout.startswith(sysconfig.get_paths()["purelib"]), c.stderr
