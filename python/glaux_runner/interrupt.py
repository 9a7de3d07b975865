"""SIGINT handling: a running calculation is stopped, an idle runner ignores the signal."""

import contextlib
import signal
import threading


def start_thread(target, *args, name):
    """Starts a daemon thread that never receives SIGINT, so the signal always reaches the
    main thread and interrupts the blocking call (a py4j socket read) it may be in."""

    def run():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        target(*args)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


class Interrupter:
    def __init__(self, sc):
        self._sc = sc
        self._calculation = None  # set only while user code may run
        self._closing = False
        # Replaces the handler SparkContext installs (which cancels every job, running or not).
        signal.signal(signal.SIGINT, self._on_sigint)

    @contextlib.contextmanager
    def calculation(self, calculation_id):
        """Lets SIGINT interrupt the code run inside the block."""
        self._calculation = calculation_id
        try:
            if self._closing:
                raise KeyboardInterrupt
            yield
        finally:
            self._calculation = None

    def close(self):
        """Interrupts the running calculation and any later one: the runner is going away.

        Called from another thread; each side sets its flag before reading the other's, so a
        calculation that is just starting is caught by one of the two checks."""
        self._closing = True
        if self._calculation is not None:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    def _on_sigint(self, signum, frame):
        calculation_id = self._calculation
        if calculation_id is None:
            return
        # The main thread may be inside a py4j call: cancel over another thread's connection.
        start_thread(self._sc.cancelJobGroup, calculation_id, name="glaux-cancel")
        raise KeyboardInterrupt
