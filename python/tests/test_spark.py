"""The runner with real PySpark (needs Java): one driver for the whole module."""

import re
import signal
import time

import pyspark
import pytest
from conftest import Runner

pytestmark = pytest.mark.spark

CONF = {
    "spark.master": "local[1]",
    "spark.driver.memory": "512m",
    "spark.ui.enabled": "true",
    "spark.ui.port": "0",  # any free port: tests may run beside a real session
}


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    runner = Runner(tmp_path_factory.mktemp("spark"), fake=False, spark_conf=CONF)
    runner.ready = runner.wait_for("ready", timeout=120)
    yield runner
    runner.send(type="shutdown")
    assert runner.proc.wait(timeout=30) == 0
    runner.stop()


def test_ready_describes_the_driver(runner):
    assert runner.ready["spark_version"] == pyspark.__version__
    assert runner.ready["app_id"].startswith("local-")
    assert runner.ready["ui_url"].startswith("http://")


def test_spark_job_and_python_workers(runner):
    code = "print(spark.range(1000).selectExpr('sum(id)').first()[0])\nprint(sc.parallelize(range(4)).map(lambda x: x * 2).sum())"
    calculation = runner.run(code, timeout=60)
    assert calculation.done["status"] == "ok", calculation.stderr
    assert calculation.stdout == "499500\n12\n"


def test_sql_magic_shows_untruncated_rows(runner):
    calculation = runner.run("%%sql\nselect 1+1 as x, repeat('abcdefghij', 3) as long", timeout=60)
    assert calculation.done["status"] == "ok", calculation.stderr
    assert "|2  |abcdefghijabcdefghijabcdefghij|" in calculation.stdout.splitlines()
    [output] = calculation.result["outputs"]
    assert output["output_type"] == "display_data"
    assert "<td>2</td>" in output["data"]["text/html"]


def test_dataframe_value_shows_its_rows(runner):
    calculation = runner.run("spark.range(3)", timeout=60)
    [output] = calculation.result["outputs"]
    assert output["data"]["text/plain"].startswith("+---+\n| id|\n+---+\n|  0|\n|  1|\n|  2|\n+---+\n")
    assert "<td>2</td>" in output["data"]["text/html"]


def test_sql_error_ends_stderr_without_pyspark_json_log(runner):
    calculation = runner.run("spark.sql('select * from nosuch')", timeout=60)
    assert calculation.done["ename"] == "AnalysisException"
    assert "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND]" in calculation.stderr
    assert "SQLQueryContextLogger" not in calculation.stderr


def test_interrupt_cancels_a_long_job_and_reports_progress(runner):
    calculation = runner.start("spark.range(0, 10**11).selectExpr('sum(id)').first()")
    progress = runner.wait_for("progress", timeout=30)
    assert progress["id"] == calculation.id
    assert re.fullmatch(r"Stage \d+: \d+/\d+ tasks \(\d+%\)(, \d+ running)?", progress["text"])
    assert 0 <= progress["fraction"] <= 1
    interrupted = time.monotonic()
    runner.proc.send_signal(signal.SIGINT)
    done = runner.wait_for("done", timeout=10)
    assert (done["id"], done["status"], done["ename"]) == (calculation.id, "aborted", "KeyboardInterrupt")
    assert time.monotonic() - interrupted < 10
    assert calculation.stderr.splitlines()[-1] == "KeyboardInterrupt"
    # The job is gone (local[1] has one core: it would hold up the next one) and py4j still works.
    after = runner.run("print(sc.statusTracker().getActiveJobsIds(), spark.range(5).count())", timeout=30)
    assert after.stdout == "[] 5\n"


def test_interrupt_cuts_a_jvm_call_that_is_no_job(runner):
    calculation = runner.start("sc._jvm.java.lang.Thread.sleep(600000)")
    time.sleep(0.5)
    runner.proc.send_signal(signal.SIGINT)
    done = runner.wait_for("done", timeout=10)
    assert (done["id"], done["status"]) == (calculation.id, "aborted")
    assert runner.run("print(spark.range(6).count())", timeout=30).stdout == "6\n"


def test_bad_spark_property_fails_the_start(start_runner):
    runner = start_runner(fake=False, spark_conf={**CONF, "spark.driver.memory": "lots"})
    failed = runner.wait_for("failed", timeout=60)
    assert failed["ename"] == "PySparkRuntimeError"
    assert runner.proc.wait(timeout=10) == 1
    assert "Invalid maximum heap size" in runner.log()  # the reason, for glaux to quote
