"""Athena's magics: %%sql, %session_id and %status; and %pip, into the session's own overlay
(packages.py)."""

import dataclasses
import datetime

from IPython.display import publish_display_data

from .dataframes import preview


@dataclasses.dataclass
class SessionInfo:
    id: str
    workgroup: str
    engine_version: str
    started: datetime.datetime


def register(shell, spark, session, overlay):
    def sql(line, cell):
        """Runs Spark SQL and shows the result like DataFrame.show(), but (unlike Athena)
        without cutting values at 20 characters; the rows also go out as an HTML table."""
        text, html = preview(spark.sql(cell.strip().rstrip(";")), truncate=False)
        print(text, end="")
        publish_display_data({"text/plain": text, "text/html": html})

    def session_id(line):
        """Prints the session id."""
        print(session.id)

    def status(line):
        """Prints the session's id, state, workgroup, engine and Spark versions and start time."""
        print(f"Session ID: {session.id}")
        print("State: BUSY")  # a calculation (this one) is running
        print(f"Workgroup: {session.workgroup}")
        print(f"Engine Version: {session.engine_version}")
        print(f"Spark Version: {spark.version}")
        print(f"Started: {session.started:%Y-%m-%d %H:%M:%S} UTC")

    def pip(line):
        """Installs, uninstalls and lists the session's own packages (docs/packages.md)."""
        overlay.run(line)

    shell.register_magic_function(sql, "cell", "sql")
    shell.register_magic_function(pip, "line", "pip")
    shell.register_magic_function(session_id, "line", "session_id")
    shell.register_magic_function(status, "line", "status")
