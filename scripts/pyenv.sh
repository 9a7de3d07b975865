#!/usr/bin/env bash
# Prints the path of a Python interpreter whose virtual environment has exactly the locked
# dependencies of the given requirement files; with none, the session runtime's
# (python/requirements.txt: PySpark, IPython and what calculations import, nothing else):
#
#   scripts/pyenv.sh                                   # the session runtime
#   scripts/pyenv.sh python/requirements-test.txt      # the test tools (boto3, AWS CLI, pytest)
#
# Each requirements file X.txt is installed from its lock X.lock (scripts/lock writes it):
# every transitive dependency pinned, installed with pip's --require-hashes. A missing lock, or
# one compiled from another version of X.txt, is an error that says to run scripts/lock.
#
# The environment lives outside the repository, named after the locks' contents:
#   ${GLAUX_CACHE_DIR:-$HOME/.cache/glaux}/venv-<first 16 hex of their sha256>
# It is built once, under a lock, and marked complete only after pip succeeded (the marker
# lists the requirement files it holds); later calls reuse it at once without running pip.
# Needs python3 with venv and pip, flock, sha256sum. Progress goes to stderr: stdout carries
# only the interpreter path. GLAUX_BASE_PYTHON names the interpreter to build it from.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -gt 0 ] || set -- "$root/python/requirements.txt"
locks=()
names=()
for file in "$@"; do
  file=$(cd "$(dirname "$file")" && pwd)/$(basename "$file")
  lock=${file%.txt}.lock
  if [ ! -f "$lock" ]; then
    echo "pyenv: $file has no lock $(basename "$lock"): run scripts/lock $file" >&2
    exit 1
  fi
  want=$("$root/scripts/reqhash" "$file")
  if ! grep -q "source sha256 $want\$" "$lock"; then
    echo "pyenv: $(basename "$lock") was compiled from another version of $(basename "$file"): run scripts/lock $file" >&2
    exit 1
  fi
  locks+=("$lock")
  names+=("$(basename "$file")")
done
hash=$(cat "${locks[@]}" | sha256sum | cut -c1-16)
# As root the environment lives where the unprivileged runner user can use it (not under
# /root), built from the system Python (pyenv's lives under /root too).
if [ "$(id -u)" = 0 ]; then
  default_cache=/var/cache/glaux
  [ -x /usr/bin/python3 ] && default_base=/usr/bin/python3
fi
cache=${GLAUX_CACHE_DIR:-${default_cache:-$HOME/.cache/glaux}}
venv=$cache/venv-$hash
marker=$venv/.glaux-complete

if [ ! -f "$marker" ]; then
  mkdir -p "$cache"
  exec 9>"$venv.lock"
  flock 9
  # Another caller may have built it while this one waited for the lock.
  if [ ! -f "$marker" ]; then
    rm -rf "$venv" # what a failed or killed build left
    echo "pyenv: building $venv from ${names[*]} (takes a few minutes)" >&2
    "${GLAUX_BASE_PYTHON:-${default_base:-python3}}" -m venv "$venv" >&2
    pip_args=()
    for lock in "${locks[@]}"; do pip_args+=(-r "$lock"); done
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --require-hashes --no-deps "${pip_args[@]}" >&2; then
      rm -rf "$venv"
      echo "pyenv: pip install failed" >&2
      exit 1
    fi
    # Byte-compile what pip left as source (pyspark installs from an sdist, without .pyc
    # files): otherwise the first import of each module writes into the shared environment,
    # slower, and racing sessions that must leave it as it was (TestPipPerSession).
    if ! "$venv/bin/python" -m compileall -q -j0 "$venv/lib" >&2; then
      rm -rf "$venv"
      echo "pyenv: compileall failed" >&2
      exit 1
    fi
    # glaux serve's default --python is the newest environment whose marker says it is the
    # session runtime alone (cmd/glaux/config.go).
    printf '%s\n' "${names[@]}" >"$marker"
    echo "pyenv: ready" >&2
  fi
fi
echo "$venv/bin/python"
