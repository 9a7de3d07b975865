"""The runner protocol's two pipes: JSON-line commands in on fd 3, events out on fd 4."""

import json
import logging
import os
import threading

COMMAND_FD = 3
EVENT_FD = 4
_FIELDS = {"execute": ("id", "code", "dir")}  # what each command must carry besides "type"

log = logging.getLogger(__name__)


class Channel:
    def __init__(self, command_fd=COMMAND_FD, event_fd=EVENT_FD):
        # Children (the JVM, user subprocesses) must not hold the pipes: glaux sees the
        # runner's end as EOF on fd 4, which a surviving child would delay.
        for fd in (command_fd, event_fd):
            os.set_inheritable(fd, False)
        self._commands = os.fdopen(command_fd, "r", encoding="utf-8", errors="replace")
        self._events = os.fdopen(event_fd, "w", encoding="utf-8")
        self._lock = threading.Lock()  # the main and the progress threads both send

    def send(self, type, **fields):
        # ensure_ascii keeps lone surrogates from user text encodable.
        line = json.dumps({"type": type, **fields})
        with self._lock:
            self._events.write(line + "\n")
            self._events.flush()

    def commands(self):
        """Yields each command as a dict until glaux closes fd 3."""
        for line in self._commands:
            if not line.strip():
                continue
            try:
                command = json.loads(line)
                missing = [f for f in _FIELDS.get(command["type"], ()) if not isinstance(command.get(f), str)]
            except (ValueError, TypeError, KeyError):
                missing = ["type"]
            if missing:
                log.error("ignoring a command without %s: %r", ", ".join(missing), line[:200])
                continue
            yield command
