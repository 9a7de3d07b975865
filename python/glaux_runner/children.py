"""Python child processes of the runner that die with it.

glaux binds the runner to its own life (Pdeathsig, and the runner exits when its pipes close),
and the JVM ends when the runner's gateway pipe closes; a plain child of the runner would not
end with either and outlives a killed glaux. A child started here asks the kernel for SIGKILL
when the runner's thread that started it ends (PR_SET_PDEATHSIG), and exits at once if the
runner was already gone before it could ask."""

import os
import subprocess
import sys

PR_SET_PDEATHSIG = 1

# Runs first in the child, before the code it was started for.
_PRELUDE = """\
import os as _os, sys as _sys
if _sys.platform == "linux":
    import ctypes as _ctypes, signal as _signal
    _ctypes.CDLL(None, use_errno=True).prctl(%d, int(_signal.SIGKILL))
if _os.getppid() != int(_sys.argv.pop(1)):
    _os._exit(1)
del _os, _sys
""" % PR_SET_PDEATHSIG


# Runs pip as `python -m pip` would.
PIP = "import runpy; runpy.run_module('pip', run_name='__main__', alter_sys=True)"


def run(code, args=(), **kwargs):
    """subprocess.run of `python -c code *args` in a child that dies with the runner."""
    return subprocess.run([sys.executable, "-c", _PRELUDE + code, str(os.getpid()), *args], **kwargs)
