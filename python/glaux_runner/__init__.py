"""The session runner: a PySpark driver and an IPython shell behind the runner protocol."""
