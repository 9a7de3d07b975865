"""Sessions, calculations and executors through boto3 (and one flow through the AWS CLI).

The fake-Spark tests come first (state machine: queueing, stopping, terminating; fast); then
the real-Spark tests, which share ONE PySpark session (a JVM start costs 10-20 s on this
machine) and end with its termination.
"""

import datetime
import json
import time
import urllib.request

import botocore.exceptions
import pytest

from .glaux_e2e import GlauxServer, spark_workgroup_config, unique, wait_calculation, wait_for, wait_session_state

SPARK_JOB = 'print(spark.range(1000).selectExpr("sum(id)").first()[0])'
SESSION_START_TIMEOUT = 180  # a cold JVM on 2 busy cores
CALC_TIMEOUT = 120


def start_calc(client, session_id, code, **kw):
    out = client.start_calculation_execution(SessionId=session_id, CodeBlock=code, **kw)
    assert out["State"] in {"CREATING", "CREATED", "QUEUED", "RUNNING"}, out
    return out["CalculationExecutionId"]


def calc_state(client, calc_id):
    return client.get_calculation_execution_status(CalculationExecutionId=calc_id)["Status"]["State"]


def list_calcs(client, session_id, **kw):
    """ListCalculationExecutions page by page by hand."""
    out, token = [], None
    while True:
        page = client.list_calculation_executions(SessionId=session_id, **kw, **({"NextToken": token} if token else {}))
        out += page.get("Calculations", [])
        token = page.get("NextToken")
        if not token:
            return out


# =========================================================================== fake Spark


@pytest.fixture
def fake_session(athena, spark_workgroup):
    """An IDLE session on the fake-Spark server, terminated afterwards."""
    out = athena.start_session(WorkGroup=spark_workgroup, EngineConfiguration={"MaxConcurrentDpus": 2})
    sid = out["SessionId"]
    wait_session_state(athena, sid, {"IDLE"}, timeout=30)
    yield sid
    athena.terminate_session(SessionId=sid)
    wait_session_state(athena, sid, {"TERMINATED", "FAILED"}, timeout=30)


def test_queue_behind_a_slow_calculation(athena, fake_session):
    sid = fake_session
    slow = start_calc(athena, sid, "import time\ntime.sleep(2)\nprint('slow done')")
    wait_for(lambda: calc_state(athena, slow) == "RUNNING", 10, what="the slow calculation to run")
    assert athena.get_session_status(SessionId=sid)["Status"]["State"] == "BUSY"

    # glaux queues (Athena would refuse with "Session is in the BUSY state"): three more wait.
    queued = [start_calc(athena, sid, f"print('queued {i}')") for i in range(3)]
    for q in queued:
        assert calc_state(athena, q) == "QUEUED"
    assert calc_state(athena, slow) == "RUNNING"

    # Stop the middle one before it starts: CANCELED at once, and it never runs.
    stopped = athena.stop_calculation_execution(CalculationExecutionId=queued[1])
    assert stopped["State"] == "CANCELED"
    assert calc_state(athena, queued[1]) == "CANCELED"

    results = {c: wait_calculation(athena, c, timeout=30) for c in [slow, queued[0], queued[2]]}
    for c, r in results.items():
        assert r["Status"]["State"] == "COMPLETED", r
    # They ran in submission order.
    ends = [results[c]["Status"]["CompletionDateTime"] for c in [slow, queued[0], queued[2]]]
    assert ends == sorted(ends)
    assert results[slow]["Status"]["SubmissionDateTime"] <= results[queued[0]]["Status"]["SubmissionDateTime"]

    canceled = athena.get_calculation_execution(CalculationExecutionId=queued[1])
    assert canceled["Status"]["State"] == "CANCELED"
    assert canceled["Status"]["StateChangeReason"]
    assert "Result" not in canceled  # it never ran: no output objects

    # A finished calculation's stop succeeds and changes nothing.
    assert athena.stop_calculation_execution(CalculationExecutionId=slow)["State"] == "COMPLETED"

    wait_session_state(athena, sid, {"IDLE"}, timeout=10)
    listed = list_calcs(athena, sid)
    assert [c["CalculationExecutionId"] for c in listed] == [queued[2], queued[1], queued[0], slow]  # newest first
    assert [c["CalculationExecutionId"] for c in list_calcs(athena, sid, StateFilter="CANCELED")] == [queued[1]]
    assert [c["CalculationExecutionId"] for c in list_calcs(athena, sid, MaxResults=1)] == [c["CalculationExecutionId"] for c in listed]


def test_stop_a_running_calculation(athena, fake_session, fake_server):
    sid = fake_session
    calc = start_calc(athena, sid, "import time\nprint('started', flush=True)\ntime.sleep(60)\nprint('not reached')")
    wait_for(lambda: calc_state(athena, calc) == "RUNNING", 10, what="the calculation to run")
    time.sleep(1)  # RUNNING means handed to the runner: give the code time to print and sleep
    t0 = time.monotonic()
    assert athena.stop_calculation_execution(CalculationExecutionId=calc)["State"] in {"CANCELING", "CANCELED"}
    done = wait_calculation(athena, calc, timeout=30)
    assert done["Status"]["State"] == "CANCELED", done["Status"]
    assert time.monotonic() - t0 < 20, "the sleep was not interrupted"
    out = fake_server.read_object(done["Result"]["StdOutS3Uri"])
    assert "started" in out and "not reached" not in out
    # The session survives and runs the next one.
    nxt = wait_calculation(athena, start_calc(athena, sid, "print(6 * 7)"), timeout=30)
    assert nxt["Status"]["State"] == "COMPLETED"
    assert fake_server.read_object(nxt["Result"]["StdOutS3Uri"]).strip() == "42"


def test_terminate_fails_unfinished_calculations(athena, spark_workgroup):
    sid = athena.start_session(WorkGroup=spark_workgroup, EngineConfiguration={"MaxConcurrentDpus": 2})["SessionId"]
    wait_session_state(athena, sid, {"IDLE"}, timeout=30)
    running = start_calc(athena, sid, "import time\ntime.sleep(60)")
    queued = start_calc(athena, sid, "print('never')")
    wait_for(lambda: calc_state(athena, running) == "RUNNING", 10, what="the calculation to run")
    assert athena.terminate_session(SessionId=sid)["State"] in {"TERMINATING", "TERMINATED"}
    status = wait_session_state(athena, sid, {"TERMINATED"}, timeout=30)
    assert status["StateChangeReason"] == "Session was terminated per request."
    assert isinstance(status["EndDateTime"], datetime.datetime)
    for c in (running, queued):
        st = athena.get_calculation_execution_status(CalculationExecutionId=c)["Status"]
        assert st["State"] in {"FAILED", "CANCELED"}, st
        assert st["StateChangeReason"]
    # Terminating again succeeds and changes nothing; a terminated session takes no calculation.
    assert athena.terminate_session(SessionId=sid)["State"] == "TERMINATED"
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.start_calculation_execution(SessionId=sid, CodeBlock="print(1)")
    assert "needs to be IDLE" in e.value.response["Error"]["Message"]
    # Only usable sessions are listed by default.
    assert sid not in [s["SessionId"] for s in athena.list_sessions(WorkGroup=spark_workgroup).get("Sessions", [])]
    assert sid in [s["SessionId"] for s in athena.list_sessions(WorkGroup=spark_workgroup, StateFilter="TERMINATED")["Sessions"]]


def test_session_errors(athena, spark_workgroup):
    # Sessions need a Spark workgroup.
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.start_session(WorkGroup="primary", EngineConfiguration={"MaxConcurrentDpus": 2})
    assert "Workgroup EngineVersion is not Spark." in e.value.response["Error"]["Message"]
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.start_session(WorkGroup=unique("missing"), EngineConfiguration={"MaxConcurrentDpus": 2})
    # botocore checks mins (MaxConcurrentDpus >= 2, a 32..128-char token) before sending.
    with pytest.raises(botocore.exceptions.ParamValidationError):
        athena.start_session(WorkGroup=spark_workgroup, EngineConfiguration={"MaxConcurrentDpus": 1})
    with pytest.raises(botocore.exceptions.ParamValidationError):
        athena.start_session(WorkGroup=spark_workgroup, EngineConfiguration={"MaxConcurrentDpus": 2}, ClientRequestToken="short")
    # ... but not maxima: the server refuses a 481-minute idle timeout (1..480) and a 5001-DPU cap.
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.start_session(WorkGroup=spark_workgroup, EngineConfiguration={"MaxConcurrentDpus": 2}, SessionIdleTimeoutInMinutes=481)
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.start_session(WorkGroup=spark_workgroup, EngineConfiguration={"MaxConcurrentDpus": 5001})

    # Unknown ids.
    with pytest.raises((athena.exceptions.InvalidRequestException, athena.exceptions.ResourceNotFoundException)):
        athena.get_session(SessionId="00000000-0000-0000-0000-000000000000")
    with pytest.raises(athena.exceptions.ResourceNotFoundException) as e:
        athena.get_calculation_execution(CalculationExecutionId="00000000-0000-0000-0000-000000000000")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_start_session_idempotency(athena, spark_workgroup):
    token = "pytest-token-" + "0" * 30
    cfg = {"MaxConcurrentDpus": 2}
    first = athena.start_session(WorkGroup=spark_workgroup, EngineConfiguration=cfg, ClientRequestToken=token)["SessionId"]
    try:
        again = athena.start_session(WorkGroup=spark_workgroup, EngineConfiguration=cfg, ClientRequestToken=token)["SessionId"]
        assert again == first
        with pytest.raises(athena.exceptions.InvalidRequestException) as e:
            athena.start_session(WorkGroup=spark_workgroup, EngineConfiguration={"MaxConcurrentDpus": 3}, ClientRequestToken=token)
        assert e.value.response["AthenaErrorCode"] == "IDEMPOTENT_PARAMETER_MISMATCH"
        active = [s["SessionId"] for s in athena.list_sessions(WorkGroup=spark_workgroup)["Sessions"]]
        assert active == [first]
    finally:
        athena.terminate_session(SessionId=first)
        wait_session_state(athena, first, {"TERMINATED"}, timeout=30)


def test_calculation_inputs(athena, fake_session, fake_server):
    sid = fake_session
    # The deprecated CalculationConfiguration.CodeBlock still works.
    r = wait_calculation(athena, athena.start_calculation_execution(
        SessionId=sid, CalculationConfiguration={"CodeBlock": "print('deprecated form')"})["CalculationExecutionId"], timeout=30)
    assert r["Status"]["State"] == "COMPLETED"
    assert fake_server.read_object(r["Result"]["StdOutS3Uri"]).strip() == "deprecated form"
    # No code at all, or both forms, or more than 68000 characters (botocore checks no max).
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.start_calculation_execution(SessionId=sid)
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.start_calculation_execution(SessionId=sid, CodeBlock="1", CalculationConfiguration={"CodeBlock": "2"})
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.start_calculation_execution(SessionId=sid, CodeBlock="#" * 68001)
    assert e.value.response["AthenaErrorCode"] == "INVALID_INPUT"

    # ClientRequestToken (32..128 characters): a retry gets the first calculation back.
    token = "calc-token-" + "x" * 30
    first = athena.start_calculation_execution(SessionId=sid, CodeBlock="print(1)", ClientRequestToken=token)["CalculationExecutionId"]
    again = athena.start_calculation_execution(SessionId=sid, CodeBlock="print(1)", ClientRequestToken=token)["CalculationExecutionId"]
    assert again == first
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.start_calculation_execution(SessionId=sid, CodeBlock="print(2)", ClientRequestToken=token)
    assert e.value.response["AthenaErrorCode"] == "IDEMPOTENT_PARAMETER_MISMATCH"
    wait_calculation(athena, first, timeout=30)
    assert len(list_calcs(athena, sid)) == 2


@pytest.fixture(scope="module")
def one_session_server(glaux_bin, tmp_path_factory, make_client):
    """A fake-Spark server that allows one active session."""
    server = GlauxServer(glaux_bin, tmp_path_factory.mktemp("glaux-one") / "data", fake_spark=True,
                         extra_args=["--max-sessions", "1"])
    yield server, make_client(server)
    server.stop()


def test_too_many_sessions(one_session_server):
    server, client = one_session_server
    wg = unique("cap")
    client.create_work_group(Name=wg, Configuration=spark_workgroup_config())
    sid = client.start_session(WorkGroup=wg, EngineConfiguration={"MaxConcurrentDpus": 2})["SessionId"]
    with pytest.raises(client.exceptions.TooManyRequestsException) as e:
        client.start_session(WorkGroup=wg, EngineConfiguration={"MaxConcurrentDpus": 2})
    err = e.value.response
    assert err["Error"]["Code"] == "TooManyRequestsException"
    assert err["Reason"] == "CONCURRENT_QUERY_LIMIT_EXCEEDED"  # the modeled member, parsed by botocore
    assert "Maximum allowed sessions" in err["Error"]["Message"]
    client.terminate_session(SessionId=sid)
    wait_session_state(client, sid, {"TERMINATED"}, timeout=30)
    # The slot is free again.
    sid2 = client.start_session(WorkGroup=wg, EngineConfiguration={"MaxConcurrentDpus": 2})["SessionId"]
    wait_session_state(client, sid2, {"IDLE"}, timeout=30)
    client.terminate_session(SessionId=sid2)


# =========================================================================== real Spark


@pytest.fixture(scope="module")
def spark(spark_server, make_client):
    return make_client(spark_server)


@pytest.fixture(scope="module")
def spark_session(spark, spark_server):
    """THE real-Spark session of this module: started once, IDLE, terminated at the end."""
    wg = unique("spark")
    spark.create_work_group(
        Name=wg, Configuration=spark_workgroup_config(ResultConfiguration={"OutputLocation": "s3://pytest-spark/results/"}),
    )
    out = spark.start_session(WorkGroup=wg, Description="pytest real Spark", EngineConfiguration={"MaxConcurrentDpus": 2})
    assert out["State"] in {"CREATING", "CREATED", "IDLE"}, out
    sid = out["SessionId"]
    try:
        status = wait_session_state(spark, sid, {"IDLE", "FAILED", "TERMINATED", "DEGRADED"}, timeout=SESSION_START_TIMEOUT)
        assert status["State"] == "IDLE", f"the Spark session did not start: {status}\n{spark_server.log()[-3000:]}"
        yield {"id": sid, "workgroup": wg}
    finally:
        if spark.get_session_status(SessionId=sid)["Status"]["State"] not in {"TERMINATED", "FAILED"}:
            spark.terminate_session(SessionId=sid)
            wait_session_state(spark, sid, {"TERMINATED", "FAILED"}, timeout=60)


@pytest.mark.spark
def test_spark_session_described(spark, spark_session):
    sid = spark_session["id"]
    s = spark.get_session(SessionId=sid)
    assert s["SessionId"] == sid and s["WorkGroup"] == spark_session["workgroup"]
    assert s["Description"] == "pytest real Spark"
    assert s["EngineVersion"] == "PySpark engine version 3"
    assert s["EngineConfiguration"]["MaxConcurrentDpus"] == 2
    assert s["Status"]["State"] == "IDLE"
    assert isinstance(s["Status"]["StartDateTime"], datetime.datetime)
    assert isinstance(s["Status"]["IdleSinceDateTime"], datetime.datetime)
    assert s["SessionConfiguration"]["WorkingDirectory"].startswith("s3://pytest-spark/results/")
    assert s["SessionConfiguration"]["IdleTimeoutSeconds"] == 20 * 60  # the default 20 minutes
    assert isinstance(s["Statistics"]["DpuExecutionInMillis"], int)

    listed = spark.list_sessions(WorkGroup=spark_session["workgroup"])["Sessions"]
    assert [x["SessionId"] for x in listed] == [sid]
    assert listed[0]["EngineVersion"]["EffectiveEngineVersion"] == "PySpark engine version 3"  # a structure here
    assert listed[0]["Status"]["State"] == "IDLE"


@pytest.mark.spark
def test_spark_job(spark, spark_session, spark_server):
    sid = spark_session["id"]
    calc = start_calc(spark, sid, SPARK_JOB, Description="sum of 0..999")
    r = wait_calculation(spark, calc, timeout=CALC_TIMEOUT)
    assert r["Status"]["State"] == "COMPLETED", (r["Status"], spark_server.log()[-3000:])
    assert "StateChangeReason" not in r["Status"]
    assert r["SessionId"] == sid and r["Description"] == "sum of 0..999"
    assert r["WorkingDirectory"].startswith("s3://pytest-spark/results/")
    assert isinstance(r["Statistics"]["DpuExecutionInMillis"], int) and r["Statistics"]["DpuExecutionInMillis"] > 0
    assert r["Statistics"]["Progress"]
    result = r["Result"]
    assert result["ResultType"] == "application/vnd.aws.athena.v1+json"
    assert spark_server.read_object(result["StdOutS3Uri"]).strip() == "499500"
    assert spark_server.read_object(result["StdErrorS3Uri"]) is not None
    doc = json.loads(spark_server.read_object(result["ResultS3Uri"]))
    assert doc["calculation_id"] == calc
    assert spark.get_calculation_execution_code(CalculationExecutionId=calc)["CodeBlock"] == SPARK_JOB
    assert spark.get_session_status(SessionId=sid)["Status"]["State"] == "IDLE"


@pytest.mark.spark
def test_spark_failing_calculation(spark, spark_session, spark_server):
    code = "df = spark.range(3)\nraise ValueError('boom from pytest: %d' % df.count())"
    r = wait_calculation(spark, start_calc(spark, spark_session["id"], code), timeout=CALC_TIMEOUT)
    assert r["Status"]["State"] == "FAILED", r["Status"]
    reason = r["Status"]["StateChangeReason"]
    assert "ValueError" in reason and "boom from pytest: 3" in reason, reason
    stderr = spark_server.read_object(r["Result"]["StdErrorS3Uri"])
    assert stderr.strip().splitlines()[-1] == "ValueError: boom from pytest: 3", stderr
    # A failed calculation leaves the session usable.
    assert wait_session_state(spark, spark_session["id"], {"IDLE"}, timeout=10)["State"] == "IDLE"


@pytest.mark.spark
def test_spark_sql_magic_and_state(spark, spark_session, spark_server):
    sid = spark_session["id"]
    r = wait_calculation(spark, start_calc(spark, sid, "%%sql\nSELECT 40 + 2 AS answer"), timeout=CALC_TIMEOUT)
    assert r["Status"]["State"] == "COMPLETED", r["Status"]
    out = spark_server.read_object(r["Result"]["StdOutS3Uri"])
    assert "answer" in out and "42" in out, out  # %%sql shows the result table

    # Variables persist between calculations: the session is one Python kernel.
    first = wait_calculation(spark, start_calc(spark, sid, "pytest_df = spark.range(7)"), timeout=CALC_TIMEOUT)
    assert first["Status"]["State"] == "COMPLETED", first["Status"]
    r = wait_calculation(spark, start_calc(spark, sid, "print(pytest_df.count() * 6)"), timeout=CALC_TIMEOUT)
    assert r["Status"]["State"] == "COMPLETED", r["Status"]
    assert spark_server.read_object(r["Result"]["StdOutS3Uri"]).strip() == "42"


@pytest.mark.spark
def test_spark_calculation_through_cli(spark_session, spark_server, make_aws, spark):
    aws = make_aws(spark_server)
    code = 'print(spark.range(10).selectExpr("max(id) AS m").first().m)'
    out = aws("start-calculation-execution", "--session-id", spark_session["id"], "--code-block", code)
    calc = out["CalculationExecutionId"]
    assert out["State"] in {"CREATING", "CREATED", "QUEUED", "RUNNING"}

    def done():
        got = aws("get-calculation-execution", "--calculation-execution-id", calc)
        return got if got["Status"]["State"] in {"COMPLETED", "FAILED", "CANCELED"} else None

    got = wait_for(done, CALC_TIMEOUT, interval=0.5, what="the CLI calculation to finish")
    assert got["Status"]["State"] == "COMPLETED", got["Status"]
    assert isinstance(got["Status"]["SubmissionDateTime"], (int, float))  # epoch seconds on the wire
    assert spark_server.read_object(got["Result"]["StdOutS3Uri"]).strip() == "9"

    rc, err = aws.fails("get-calculation-execution", "--calculation-execution-id", "00000000-0000-0000-0000-000000000000")
    assert rc in (254, 255) and "(ResourceNotFoundException) when calling the GetCalculationExecution operation" in err, err


@pytest.mark.spark
def test_spark_list_calculations_and_executors(spark, spark_session):
    sid = spark_session["id"]
    calcs = list_calcs(spark, sid)
    assert len(calcs) >= 6, calcs  # what the tests above ran
    submitted = [c["Status"]["SubmissionDateTime"] for c in calcs]
    assert submitted == sorted(submitted, reverse=True)  # newest first
    states = {c["Status"]["State"] for c in calcs}
    assert states <= {"COMPLETED", "FAILED"}, states
    failed = list_calcs(spark, sid, StateFilter="FAILED")
    assert len(failed) == 1
    assert [c["CalculationExecutionId"] for c in list_calcs(spark, sid, MaxResults=2)] == [c["CalculationExecutionId"] for c in calcs]

    ex = spark.list_executors(SessionId=sid)
    assert ex["SessionId"] == sid
    coordinators = [e for e in ex["ExecutorsSummary"] if e["ExecutorType"] == "COORDINATOR"]
    assert len(coordinators) == 1, ex["ExecutorsSummary"]
    c = coordinators[0]
    assert c["ExecutorState"] == "REGISTERED"
    assert isinstance(c["StartDateTime"], int)  # a Long, not a timestamp
    assert isinstance(c["ExecutorSize"], int)
    assert all(e["ExecutorType"] in {"COORDINATOR", "GATEWAY", "WORKER"} for e in ex["ExecutorsSummary"])
    filtered = spark.list_executors(SessionId=sid, ExecutorStateFilter="REGISTERED")["ExecutorsSummary"]
    assert c["ExecutorId"] in [e["ExecutorId"] for e in filtered]


def session_arn(spark_session):
    return f"arn:aws:athena:us-east-1:123456789012:workgroup/{spark_session['workgroup']}/session/{spark_session['id']}"


def has_dashboard(client):
    """GetResourceDashboard is in botocore's Athena model from 2025-11 on (not in boto3 1.40's)."""
    return "GetResourceDashboard" in client.meta.service_model.operation_names


@pytest.mark.spark
def test_spark_resource_dashboard(spark, spark_session, spark_server):
    """GetResourceDashboard's Url opens the session's Spark UI on glaux (docs/dashboard.md)."""
    if not has_dashboard(spark):
        assert tuple(int(x) for x in botocore.__version__.split(".")[:2]) < (1, 41), botocore.__version__
        return  # an older client (boto3 1.40) has no such call
    url = spark.get_resource_dashboard(ResourceARN=session_arn(spark_session))["Url"]
    prefix = f"{spark_server.endpoint}/sparkui/{spark_session['id']}/"
    assert url.startswith(prefix + "?token="), url
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(url, timeout=60) as r:
        page = r.read().decode()
        assert r.status == 200 and r.url == prefix + "jobs/", r.url
    assert "Spark Jobs" in page and f"setUIRoot('/sparkui/{spark_session['id']}')" in page
    with pytest.raises(spark.exceptions.InvalidRequestException):
        spark.get_resource_dashboard(ResourceARN=f"arn:aws:athena:us-east-1:123456789012:workgroup/{spark_session['workgroup']}")


@pytest.mark.spark
def test_spark_terminate_session(spark, spark_session, spark_server):
    """Last of the module: ends the shared session."""
    sid = spark_session["id"]
    assert spark.terminate_session(SessionId=sid)["State"] in {"TERMINATING", "TERMINATED"}
    status = wait_session_state(spark, sid, {"TERMINATED", "FAILED"}, timeout=60)
    assert status["State"] == "TERMINATED", status
    assert status["StateChangeReason"] == "Session was terminated per request."
    s = spark.get_session(SessionId=sid)
    assert s["Status"]["EndDateTime"] >= s["Status"]["StartDateTime"]
    assert "IdleSinceDateTime" not in s["Status"]
    ex = spark.list_executors(SessionId=sid)["ExecutorsSummary"]
    assert all(e["ExecutorState"] in {"TERMINATED", "FAILED"} for e in ex), ex
    with pytest.raises(spark.exceptions.InvalidRequestException):
        spark.start_calculation_execution(SessionId=sid, CodeBlock="print(1)")
    if has_dashboard(spark):
        with pytest.raises(spark.exceptions.ResourceNotFoundException):
            spark.get_resource_dashboard(ResourceARN=session_arn(spark_session))
