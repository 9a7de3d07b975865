#!/usr/bin/env bash
# Prints the path of a Python interpreter whose virtual environment has python/requirements.txt
# (the session runner) and python/requirements-test.txt (the tests) installed; or, given
# requirement files as arguments, exactly those (e.g. another client version's environment):
#
#   scripts/pyenv.sh                                   # runner + test tools
#   scripts/pyenv.sh python/requirements-old.txt       # just that file's packages
#
# The environment lives outside the repository, named after the requirements' contents:
#   ${GLAUX_CACHE_DIR:-$HOME/.cache/glaux}/venv-<first 16 hex of their sha256>
# It is built once, under a lock, and marked complete only after pip succeeded; later calls
# reuse it at once without running pip. Needs python3 with venv and pip, flock, sha256sum.
# Progress goes to stderr: stdout carries only the interpreter path. GLAUX_BASE_PYTHON names
# the interpreter to build it from (default python3).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -gt 0 ]; then
  requirements=()
  for file in "$@"; do requirements+=("$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"); done
else
  requirements=("$root/python/requirements.txt" "$root/python/requirements-test.txt")
fi
hash=$(cat "${requirements[@]}" | sha256sum | cut -c1-16)
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
    echo "pyenv: building $venv (takes a few minutes)" >&2
    "${GLAUX_BASE_PYTHON:-${default_base:-python3}}" -m venv "$venv" >&2
    pip_args=()
    for file in "${requirements[@]}"; do pip_args+=(-r "$file"); done
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "${pip_args[@]}" >&2; then
      rm -rf "$venv"
      echo "pyenv: pip install failed" >&2
      exit 1
    fi
    touch "$marker"
    echo "pyenv: ready" >&2
  fi
fi
echo "$venv/bin/python"
