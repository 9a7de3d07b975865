"""Per-session Python packages (docs/packages.md): `%pip` installs into the session's own
overlay directory, never into the shared runtime environment. The overlay is first on the
driver's sys.path and on its Python workers' PYTHONPATH (local mode), or shipped to the
executors as a zip after each install (a cluster)."""

import importlib
import importlib.metadata
import os
import re
import shlex
import shutil
import sys
import zipfile

from . import children

# Under the runner's working directory, its scratch dir: gone with the session.
OVERLAY_DIR = "pip-overlay"

# Options that would send pip somewhere else than the overlay.
_ELSEWHERE = ("--user", "--prefix", "--root", "--target", "-t", "--editable", "-e")
# Subcommands that only read (with the overlay on their path) or write below the scratch dir.
_READING = ("list", "freeze", "show", "check", "download", "wheel", "help", "--version", "-V", "--help", "-h")


class PipError(Exception):
    """A %pip command failed; the message is pip's."""


class Overlay:
    def __init__(self, path=None):
        self.path = os.path.abspath(path or OVERLAY_DIR)
        self.sc = None
        self._shipped = 0

    def prepare(self, conf):
        """Before Spark starts: puts the overlay first on the driver's path and, in local
        mode, on the Python workers' PYTHONPATH (they run on this machine)."""
        os.makedirs(self.path, exist_ok=True)
        sys.path.insert(0, self.path)
        # Subprocesses of the calculation's code see the session's packages too.
        os.environ["PYTHONPATH"] = _join(self.path, os.environ.get("PYTHONPATH", ""))
        if conf.get("spark.master", "local").startswith("local"):
            key = "spark.executorEnv.PYTHONPATH"
            conf[key] = _join(self.path, conf.get(key, ""))
        return conf

    def bind(self, sc):
        self.sc = sc

    def run(self, line):
        """Runs one `%pip ...` line."""
        try:
            args = shlex.split(line)
        except ValueError as e:
            raise PipError(f"%pip: {e}") from None
        if not args:
            raise PipError("usage: %pip install|uninstall|list|show|freeze ...")
        command, rest = args[0], args[1:]
        if command == "install":
            self.install(rest)
        elif command == "uninstall":
            self.uninstall(rest)
        elif command in _READING:
            self._pip([command, *rest])
        else:
            raise PipError(f"%pip {command} is not available in a session: use install, uninstall, list, show or freeze")

    def install(self, args):
        bad = [a for a in args if a.split("=", 1)[0] in _ELSEWHERE]
        if bad:
            raise PipError(f"%pip install {bad[0]}: packages go to the session's overlay ({self.path}) only")
        extra = [] if "-U" in args or "--upgrade" in args else ["--upgrade"]  # replace what an earlier install put there
        self._pip(["install", "--target", self.path, *extra, *args])
        self._drop_stale_metadata()
        importlib.invalidate_caches()  # the driver imports what was just installed
        self._ship()

    def uninstall(self, args):
        names = [a for a in args if not a.startswith("-")]
        if not names:
            raise PipError("usage: %pip uninstall NAME...")
        for name in names:
            dist = _find(name, [self.path])
            if dist is None:
                if _find(name, [p for p in sys.path if p != self.path]) is not None:
                    raise PipError(f"{name} is part of the session's shared environment, which %pip does not change")
                print(f"WARNING: Skipping {name} as it is not installed.", file=sys.stderr)
                continue
            label = f"{dist.metadata['Name']}-{dist.version}"  # read before its files go
            self._remove(dist)
            print(f"Successfully uninstalled {label}")
        importlib.invalidate_caches()
        self._ship()

    def _drop_stale_metadata(self):
        """pip --target --upgrade replaces a package's files but leaves the metadata of the
        version it replaced (another .dist-info name): keep only the newest per name."""
        seen = {}
        for entry in os.listdir(self.path):
            if entry.endswith(".dist-info"):
                name = _normalize(entry[: -len(".dist-info")].rsplit("-", 1)[0])
                seen.setdefault(name, []).append(os.path.join(self.path, entry))
        for paths in seen.values():
            paths.sort(key=os.path.getmtime)
            for stale in paths[:-1]:
                shutil.rmtree(stale, ignore_errors=True)

    def _remove(self, dist):
        """Deletes the files the distribution's RECORD names inside the overlay, and the
        directories that are left empty (but for bytecode)."""
        root = os.path.realpath(self.path)
        dirs = set()
        for f in dist.files or []:
            p = os.path.realpath(os.path.join(root, str(f)))
            if not p.startswith(root + os.sep):
                continue  # e.g. scripts recorded outside the target
            dirs.add(os.path.dirname(p))
            if os.path.isfile(p) or os.path.islink(p):
                os.remove(p)
        for d in sorted(dirs, key=len, reverse=True):
            while d.startswith(root + os.sep):
                shutil.rmtree(os.path.join(d, "__pycache__"), ignore_errors=True)
                try:
                    os.rmdir(d)
                except OSError:
                    break
                d = os.path.dirname(d)

    def _pip(self, args):
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
        env["PIP_CACHE_DIR"] = os.path.join(os.path.dirname(self.path), "pip-cache")  # not shared with other sessions
        env["PYTHONPATH"] = _join(self.path, env.get("PYTHONPATH", ""))
        proc = children.run(children.PIP, args, env=env, capture_output=True, text=True)
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR")]
            message = "\n".join(errors or proc.stderr.strip().splitlines()[-5:]) or f"pip exited with {proc.returncode}"
            raise PipError(message)

    def _ship(self):
        """A cluster's executors get the overlay as a zip (pure-Python packages only: native
        extensions do not import from a zip); local workers read the directory itself."""
        sc = self.sc
        if sc is None or not hasattr(sc, "addPyFile") or sc.master.startswith("local"):
            return
        self._shipped += 1
        archive = os.path.join(os.path.dirname(self.path), f"pip-overlay-{self._shipped}.zip")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            for top, _, files in os.walk(self.path):
                for f in files:
                    full = os.path.join(top, f)
                    z.write(full, os.path.relpath(full, self.path))
        sc.addPyFile(archive)


def _find(name, path):
    want = _normalize(name)
    for dist in importlib.metadata.distributions(path=path):
        if _normalize(dist.metadata["Name"] or "") == want:
            return dist
    return None


def _normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _join(first, rest):
    return first + (os.pathsep + rest if rest else "")
