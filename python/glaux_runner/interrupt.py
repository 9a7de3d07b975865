"""SIGINT handling: a running calculation is stopped, an idle runner ignores the signal."""

import contextlib
import signal
import sys
import threading
import time

# How long a py4j call may go on after its jobs were cancelled before it is cut short anyway
# (it was no Spark job, say a metastore call).
CALL_GRACE = 2.0


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
    """SIGINT cancels the calculation's Spark jobs (through cancel(calculation id)) and raises
    KeyboardInterrupt in its code.

    While the code waits in a py4j call, the KeyboardInterrupt is held back until the call
    returns (the cancelled job makes the JVM answer at once): raised inside the call, it would
    leave py4j to tear down its connections half-way, and the next call could fail."""

    def __init__(self, cancel):
        self._cancel_jobs = cancel
        self._calculation = None  # set only while user code may run
        self._starting = None  # a calculation announced (`started`) whose code has not begun
        self._pending = False  # SIGINT came while it was starting
        self._closing = False
        self._deferred = False  # a KeyboardInterrupt waits for a py4j call to return
        # Replaces the handler SparkContext installs (which cancels every job, running or not).
        signal.signal(signal.SIGINT, self._on_sigint)

    def starting(self, calculation_id):
        """Called before the calculation is announced as started: a SIGINT from then on is
        kept and interrupts the code as soon as it begins, so none is lost."""
        self._pending = False
        self._starting = calculation_id

    @contextlib.contextmanager
    def calculation(self, calculation_id):
        """Lets SIGINT interrupt the code run inside the block."""
        self._calculation = calculation_id
        try:
            if self._closing or self._pending:
                raise KeyboardInterrupt
            yield
        finally:
            self._calculation = None
            self._starting = None
            self._pending = False
            self._stop_deferring()

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
            if self._starting is not None and not self._pending:
                self._pending = True  # raised when the code begins
                start_thread(self._cancel_jobs, self._starting, name="glaux-cancel")
            return
        if self._deferred:  # a second SIGINT, or the held-back one waited long enough
            self._stop_deferring()
            raise KeyboardInterrupt
        # Cancel over another thread's connection: the main thread may be inside a py4j call.
        start_thread(self._cancel, calculation_id, name="glaux-cancel")
        call = _py4j_call(frame)
        if call is None:
            raise KeyboardInterrupt
        self._deferred = True
        sys.settrace(_no_new_frames)  # a frame's trace function runs only while a global one is set
        call.f_trace = self._raise_on_return

    def _cancel(self, calculation_id):
        self._cancel_jobs(calculation_id)
        time.sleep(CALL_GRACE)
        if self._deferred and self._calculation == calculation_id:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    def _raise_on_return(self, frame, event, arg):
        if event == "return":
            self._stop_deferring()
            raise KeyboardInterrupt
        return self._raise_on_return

    def _stop_deferring(self):
        if self._deferred:
            self._deferred = False
            sys.settrace(None)


def _no_new_frames(frame, event, arg):
    return None


def _py4j_call(frame):
    """The frame of the py4j call the main thread waits in, if any."""
    java_gateway = sys.modules.get("py4j.java_gateway")
    if java_gateway is None:
        return None
    send_command = java_gateway.GatewayClient.send_command.__code__
    while frame is not None and frame.f_code is not send_command:
        frame = frame.f_back
    return frame
