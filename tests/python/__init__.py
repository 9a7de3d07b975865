# A package, so that this directory's conftest is imported as python.conftest and leaves the
# plain `conftest` module name to python/tests (whose tests do `from conftest import Runner`)
# when scripts/test collects both directories in one pytest run.
