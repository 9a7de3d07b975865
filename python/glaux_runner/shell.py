"""The IPython shell that runs calculations, and the capture of what they print and display
into the calculation's stdout.txt, stderr.txt and result.json."""

import base64
import contextlib
import io
import json
import os
import pathlib
import re
import sys
import traceback

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import publish_display_data
from traitlets import Type
from traitlets.config import Config

# The file name IPython compiles cell number N under.
_CELL_FILE = re.compile(r"<ipython-input-(\d+)-[0-9a-f]+>")
_TRACEBACK_HEADER = "Traceback (most recent call last):"
_RUNNER_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class _ResultHook(DisplayHook):
    """Puts a cell's value into the result document as execute_result, instead of printing
    `Out[n]:` to stdout."""

    def write_output_prompt(self):
        pass

    def write_format_data(self, format_dict, md_dict=None):
        self.shell.outputs.append(
            {
                "output_type": "execute_result",
                "execution_count": self.prompt_count,
                "data": format_dict,
                "metadata": md_dict or {},
            }
        )


class _DisplayCollector(DisplayPublisher):
    """Puts display() calls into the result document as display_data."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
        self.shell.outputs.append({"output_type": "display_data", "data": data, "metadata": metadata or {}})

    def clear_output(self, wait=False):
        self.shell.outputs.clear()


class Shell(InteractiveShell):
    displayhook_class = Type(_ResultHook)
    display_pub_class = Type(_DisplayCollector)

    @classmethod
    def create(cls, namespace):
        _STDOUT.install()
        _STDERR.install()
        config = Config()
        config.HistoryManager.enabled = False  # no history database shared by concurrent sessions
        config.InteractiveShell.colors = "NoColor"  # plain text in files, no ANSI escapes
        shell = cls.instance(config=config)
        shell.push(namespace, interactive=False)  # predefined, so hidden from %who
        shell.events.register("post_execute", publish_figures)
        return shell

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.outputs = []  # the running calculation's display outputs
        self._line_offsets = {}  # cell number -> leading blank lines IPython dropped

    def run(self, calculation_id, code, directory, interruptible):
        """Runs code as one calculation and writes its three files into directory.

        interruptible is a context manager that lets SIGINT interrupt the code. Returns
        (status, exception or None)."""
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.outputs = []
        # IPython drops a cell's leading blank lines; tracebacks count them, as Athena's do.
        self._line_offsets[self.execution_count] = len(code) - len(code.lstrip("\n"))
        with _STDOUT.capturing(directory / "stdout.txt"), _STDERR.capturing(directory / "stderr.txt"):
            try:
                with interruptible:
                    result = self.run_cell(code, store_history=True)
                error = result.error_before_exec or result.error_in_exec
            except KeyboardInterrupt as e:  # it came outside the code IPython guards
                self.showtraceback()
                error = e
        status = "ok" if error is None else "aborted" if isinstance(error, KeyboardInterrupt) else "error"
        document = {"version": 1, "calculation_id": calculation_id, "status": status, "outputs": self.outputs}
        if error is not None:
            document["error"] = {
                "ename": type(error).__name__,
                "evalue": str(error),
                "traceback": self.format_traceback(error),
            }
        with open(directory / "result.json", "w", encoding="utf-8") as f:
            json.dump(document, f, default=_jsonable)
        return status, error

    def showtraceback(self, exc_tuple=None, filename=None, tb_offset=None, exception_only=False,
                      running_compiled_code=False):
        """Prints the traceback to stderr the way Athena's stderr shows it (see
        format_traceback); IPython calls this for every error in a cell."""
        try:
            _, value, _ = self._get_exc_info(exc_tuple)  # also sets sys.last_* for %debug
        except ValueError:
            return
        print("\n".join(self.format_traceback(value)), file=sys.stderr)

    def showsyntaxerror(self, filename=None, running_compiled_code=False):
        self.showtraceback()

    def enable_gui(self, gui=None):
        """Nothing to do: there is no GUI, figures are captured (`%matplotlib inline` works)."""

    def format_traceback(self, exc):
        """Formats exc as Python does for code read from stdin, which is what Athena shows:
        frames in cells read `File "<stdin>", line N, in <module>` without a source line, with
        N counted from the top of the code block; IPython's frames before the first cell frame,
        the runner's own frames (the SIGINT handler, magics) and the
        `Traceback (most recent call last):` header are left out. The last line is
        `ExceptionType: message`."""
        if isinstance(exc, UsageError):  # a magic's complaint about its arguments
            return [f"UsageError: {exc}"]
        formatted = traceback.TracebackException.from_exception(exc)
        self._rewrite_cells(formatted, with_frames=not isinstance(exc, SystemExit))
        lines = "".join(formatted.format()).splitlines()
        return [line for line in lines if line != _TRACEBACK_HEADER]

    def _rewrite_cells(self, formatted, with_frames):
        frames = []
        for frame in formatted.stack:
            cell = _CELL_FILE.fullmatch(frame.filename)
            if cell:
                lineno = frame.lineno + self._line_offsets.get(int(cell[1]), 0)
                frame = traceback.FrameSummary("<stdin>", lineno, frame.name, line="")
            elif not frames or frame.filename.startswith(_RUNNER_DIR):
                continue  # IPython's frames before the user's code, and the runner's own
            frames.append(frame)
        formatted.stack = traceback.StackSummary.from_list(frames if with_frames else [])
        if issubclass(formatted.exc_type, SyntaxError) and formatted.filename:
            cell = _CELL_FILE.fullmatch(formatted.filename)
            if cell:
                formatted.filename = "<stdin>"
                formatted.lineno = str(int(formatted.lineno) + self._line_offsets.get(int(cell[1]), 0))
        nested = [formatted.__cause__, formatted.__context__, *(formatted.exceptions or [])]
        for inner in filter(None, nested):
            self._rewrite_cells(inner, with_frames)


def publish_figures():
    """Publishes, then closes, every open pyplot figure as image/png display data (at the
    end of each calculation, and on plt.show() through glaux_runner.mplbackend)."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    for number in plt.get_fignums():
        figure = plt.figure(number)
        png = io.BytesIO()
        figure.savefig(png, format="png", bbox_inches="tight")
        publish_display_data(
            {"image/png": base64.b64encode(png.getvalue()).decode("ascii"), "text/plain": repr(figure)}
        )
    plt.close("all")


class _Stream(io.TextIOBase):
    """sys.stdout or sys.stderr for the runner's whole life. Whoever keeps a reference to it
    (a logging handler, a library) still writes to the running calculation's file, and
    between calculations to the process's own stream: the runner log."""

    def __init__(self, name):
        self._name = name
        self._process = getattr(sys, f"__{name}__")
        self._file = None

    def install(self):
        setattr(sys, self._name, self)

    @contextlib.contextmanager
    def capturing(self, path):
        self.install()  # again: a calculation may have replaced it
        # backslashreplace: user text with lone surrogates must not break the capture.
        # Line-buffered: the notebook page streams the file while the cell runs.
        with open(path, "w", encoding="utf-8", errors="backslashreplace", buffering=1) as self._file:
            try:
                yield
            finally:
                self._file = None

    def _target(self):
        return self._file or self._process

    def write(self, text):
        return self._target().write(text)

    def flush(self):
        self._target().flush()

    def writable(self):
        return True

    def fileno(self):  # writes to the descriptor bypass the capture and land in the runner log
        return self._process.fileno()

    @property
    def encoding(self):
        return self._target().encoding

    @property
    def buffer(self):
        return self._target().buffer


_STDOUT = _Stream("stdout")
_STDERR = _Stream("stderr")


def _jsonable(value):
    """MIME bundles may hold raw image bytes; nbformat stores them base64-encoded."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return repr(value)
