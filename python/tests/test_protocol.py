"""The runner protocol, in fake-Spark mode (no Java): each test drives a real runner process."""

import base64
import signal
import time

import pytest
from conftest import Runner


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    runner = Runner(tmp_path_factory.mktemp("runner"), spark_conf={"spark.master": "local[1]"})
    runner.ready = runner.wait_for("ready")
    yield runner
    runner.stop()


def test_ready_describes_the_driver(runner):
    assert runner.ready["spark_version"] == "fake"
    assert runner.ready["app_id"].startswith("fake-")
    assert runner.ready["ui_url"] is None


def test_spark_conf_and_app_name_reach_the_builder(runner):
    calculation = runner.run('print(spark.conf.get("spark.app.name"), spark.conf.get("spark.master"))')
    assert calculation.stdout == "glaux-test-session local[1]\n"


def test_print_goes_to_stdout_file_and_an_ok_calculation_has_no_error(runner):
    calculation = runner.run("import sys\nprint('héllo')\nprint('warn', file=sys.stderr)")
    assert calculation.done == {"type": "done", "id": calculation.id, "status": "ok"}
    assert calculation.stdout == "héllo\n"
    assert calculation.stderr == "warn\n"
    result = calculation.result
    assert result == {"version": 1, "calculation_id": calculation.id, "status": "ok", "outputs": []}


def test_variables_persist_across_calculations(runner):
    runner.run("counter = 41")
    assert runner.run("counter += 1\nprint(counter)").stdout == "42\n"


def test_predefined_spark_names(runner):
    code = "print(type(spark).__name__, type(sc).__name__, spark.range(7).count(), SparkSession, SparkContext)"
    assert runner.run(code).stdout.startswith("SparkSession SparkContext 7 <class")


def test_job_group_is_the_calculation_id(runner):
    calculation = runner.run('print(sc.getLocalProperty("spark.jobGroup.id"))')
    assert calculation.stdout == f"{calculation.id}\n"


def test_exception_is_an_error_with_athena_style_traceback(runner):
    calculation = runner.run("\nx\n")
    assert calculation.done["status"] == "error"
    assert calculation.done["ename"] == "NameError"
    assert calculation.done["evalue"] == "name 'x' is not defined"
    # What Athena's stderr holds (PyAthena's test_failed compares it after strip()).
    assert calculation.stderr.strip() == "File \"<stdin>\", line 2, in <module>\nNameError: name 'x' is not defined"
    error = calculation.result["error"]
    assert error["ename"] == "NameError"
    assert error["traceback"][-1] == "NameError: name 'x' is not defined"


def test_traceback_through_functions_of_earlier_cells(runner):
    runner.run("def fail():\n    return 1 / 0")
    calculation = runner.run("fail()")
    assert calculation.stderr.splitlines() == [
        '  File "<stdin>", line 1, in <module>',
        '  File "<stdin>", line 2, in fail',
        "ZeroDivisionError: division by zero",
    ]


def test_syntax_error_is_an_error(runner):
    calculation = runner.run("\nx = (")
    assert calculation.done["status"] == "error"
    assert calculation.done["ename"] == "SyntaxError"
    assert calculation.stderr.splitlines()[0] == '  File "<stdin>", line 2'
    assert calculation.stderr.splitlines()[-1].startswith("SyntaxError: ")


def test_unknown_magic_is_a_usage_error(runner):
    calculation = runner.run("%nosuchmagic")
    assert calculation.done["status"] == "error"
    assert calculation.stderr.strip().splitlines()[-1].startswith("UsageError: Line magic function")


def test_last_expression_is_an_execute_result(runner):
    calculation = runner.run("6 * 7")
    assert calculation.stdout == ""
    [output] = calculation.result["outputs"]
    assert output["output_type"] == "execute_result"
    assert output["data"] == {"text/plain": "42"}
    assert isinstance(output["execution_count"], int)


def test_pandas_dataframe_displays_as_html(runner):
    calculation = runner.run("import pandas as pd\npd.DataFrame({'a': [1, 2]})")
    [output] = calculation.result["outputs"]
    assert "<table" in output["data"]["text/html"]
    assert "a" in output["data"]["text/plain"]


def test_display_call_is_display_data(runner):
    calculation = runner.run("from IPython.display import display, HTML\ndisplay(HTML('<b>x</b>'))")
    [output] = calculation.result["outputs"]
    assert output["output_type"] == "display_data"
    assert output["data"]["text/html"] == "<b>x</b>"


@pytest.mark.parametrize(
    "before, after",
    [("", "plt.show()\n"), ("", ""), ("%matplotlib inline\n", "plt.show()\n")],
    ids=["show", "left-open", "inline-backend"],
)
def test_matplotlib_figure_is_an_image(runner, before, after):
    code = f"{before}import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\n{after}"
    calculation = runner.run(code, timeout=60)
    assert calculation.done["status"] == "ok", calculation.stderr
    images = [o for o in calculation.result["outputs"] if "image/png" in o["data"]]
    assert len(images) == 1
    assert base64.b64decode(images[0]["data"]["image/png"]).startswith(b"\x89PNG")
    assert "Figure" in images[0]["data"]["text/plain"]
    assert "non-interactive" not in calculation.stderr
    # The figure was closed: the next calculation does not publish it again.
    assert runner.run("plt.get_fignums()").result["outputs"][0]["data"]["text/plain"] == "[]"


def test_interrupt_aborts_and_the_session_goes_on(runner):
    runner.run("survivor = 'still here'")
    calculation = runner.start("print('looping', flush=True)\nwhile True: pass")
    calculation.wait_stdout("looping\n")  # the code runs: the signal interrupts it, not its start
    runner.proc.send_signal(signal.SIGINT)
    done = runner.wait_for("done")
    assert done == {"type": "done", "id": calculation.id, "status": "aborted", "ename": "KeyboardInterrupt", "evalue": ""}
    assert calculation.stderr.strip().endswith("KeyboardInterrupt")
    assert calculation.result["error"]["ename"] == "KeyboardInterrupt"
    after = runner.run("print(survivor, sc.cancelled_groups[-1])")
    assert after.stdout == f"still here {calculation.id}\n"


def test_sigint_upon_started_interrupts_the_calculation(start_runner):
    # Each py4j call takes 0.5 s here, so the signal lands before the code begins; before the
    # handler knew the starting calculation, it was dropped and the loop ran forever.
    runner = start_runner(env={"GLAUX_FAKE_SPARK_CALL_DELAY": "0.5"})
    runner.wait_for("ready")
    calculation = runner.start("while True: pass")
    runner.proc.send_signal(signal.SIGINT)
    done = runner.wait_for("done", timeout=5)
    assert (done["id"], done["status"], done["ename"]) == (calculation.id, "aborted", "KeyboardInterrupt")
    assert calculation.result["error"]["ename"] == "KeyboardInterrupt"
    assert runner.run("print(sc.cancelled_groups)").stdout == f"['{calculation.id}']\n"
    # The kept interrupt was for that calculation only.
    assert runner.run("print('next')").done["status"] == "ok"


def test_sigint_while_idle_is_ignored(runner):
    runner.proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    assert runner.run("print('alive')").stdout == "alive\n"


def test_session_id_magic(runner):
    assert runner.run("%session_id").stdout == "test-session\n"


def test_status_magic(runner):
    stdout = runner.run("%status").stdout
    for expected in ["test-session", "BUSY", "primary", "PySpark engine version 3", "fake"]:
        assert expected in stdout


def test_malformed_and_unknown_commands_are_ignored(runner):
    runner.send(type="nonsense")
    runner.send(type="execute", id="no-dir", code="print(0)")
    runner.send_line("{not json")
    runner.send_line("[1]")
    assert runner.run("print(1)").stdout == "1\n"


def test_shutdown_exits_zero(start_runner):
    runner = start_runner()
    runner.wait_for("ready")
    runner.send(type="shutdown")
    assert runner.proc.wait(timeout=10) == 0
    assert runner.next_event() is None  # fd 4 closed


def test_shutdown_aborts_a_running_calculation(start_runner):
    runner = start_runner()
    runner.wait_for("ready")
    calculation = runner.start("while True: pass")
    runner.send(type="shutdown")
    done = runner.wait_for("done")
    assert (done["id"], done["status"]) == (calculation.id, "aborted")
    assert runner.proc.wait(timeout=10) == 0


def test_eof_on_commands_exits(start_runner):
    runner = start_runner()
    runner.wait_for("ready")
    runner.start("while True: pass")
    runner.close_commands()
    assert runner.wait_for("done")["status"] == "aborted"
    assert runner.proc.wait(timeout=10) == 0


def test_unparsable_spark_conf_fails_the_start(start_runner):
    runner = start_runner(env={"GLAUX_SPARK_CONF": "{not json"})
    failed = runner.wait_for("failed")
    assert failed["ename"] == "JSONDecodeError"
    assert runner.proc.wait(timeout=10) == 1
