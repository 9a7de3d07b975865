"""The Spark Connect engine ("Apache Spark version 3.5") through boto3 and the pinned
pyspark[connect] client, over plaintext h2c on loopback (the TLS variant is
cmd/glaux/connect_e2e_test.go). One session for the module, on the shared real-Spark server."""

import json
import pathlib
import subprocess

import boto3
import botocore.session
import pytest

from .conftest import CLIENT_CONFIG
from .glaux_e2e import EXECUTION_ROLE, REGION, REPO, runner_python, unique, wait_session_state

CONNECT_ENGINE = "Apache Spark version 3.5"
CLIENT = pathlib.Path(__file__).with_name("connect_client.py")
SESSION_START_TIMEOUT = 240


@pytest.fixture(scope="module")
def connect_athena(spark_server, tmp_path_factory):
    """A client that has GetSessionEndpoint: boto3's own, or, for a botocore that predates it
    (1.40, AWS JSON 1.1), botocore with the Athena model glaux is built from."""
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
    client = session.client("athena", endpoint_url=spark_server.endpoint, config=CLIENT_CONFIG)
    if hasattr(client, "get_session_endpoint"):
        return client
    data = tmp_path_factory.mktemp("athena-model")
    model = data / "athena" / "2017-05-18" / "service-2.json"
    model.parent.mkdir(parents=True)
    model.write_text((REPO / "internal" / "wire" / "model" / "athena-service-2.json").read_text())
    core = botocore.session.get_session()
    core.get_component("data_loader").search_paths.insert(0, str(data))
    return boto3.session.Session(botocore_session=core, aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION).client(
        "athena", endpoint_url=spark_server.endpoint, config=CLIENT_CONFIG
    )


@pytest.fixture(scope="module")
def connect_session(connect_athena, spark_server):
    wg = unique("connect")
    connect_athena.create_work_group(
        Name=wg, Configuration={"EngineVersion": {"SelectedEngineVersion": CONNECT_ENGINE}, "ExecutionRole": EXECUTION_ROLE}
    )
    out = connect_athena.start_session(
        WorkGroup=wg,
        EngineConfiguration={"Classifications": [{"Name": "spark-defaults", "Properties": {"spark.sql.shuffle.partitions": "4"}}]},
        Tags=[{"Key": "team", "Value": "pytest"}],
    )
    sid = out["SessionId"]
    try:
        status = wait_session_state(connect_athena, sid, {"IDLE", "FAILED", "TERMINATED"}, timeout=SESSION_START_TIMEOUT)
        assert status["State"] == "IDLE", f"the Connect session did not start: {status}\n{spark_server.log()[-3000:]}"
        yield {"id": sid, "workgroup": wg}
    finally:
        connect_athena.terminate_session(SessionId=sid)
        wait_session_state(connect_athena, sid, {"TERMINATED", "FAILED"}, timeout=60)


def remote_url(endpoint, token):
    host = endpoint["EndpointUrl"].split("://", 1)[1].rstrip("/")
    return f"sc://{host}/;use_ssl=false;x-aws-proxy-auth={token}"


def run_client(url, *checks, timeout=240):
    """Runs connect_client.py with the session runtime's interpreter; its JSON lines by check."""
    proc = subprocess.run([runner_python(), str(CLIENT), url, *checks], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"client failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    return {r["check"]: r for r in map(json.loads, proc.stdout.splitlines())}


@pytest.mark.spark
def test_connect_dataframe_sql_udf_and_interrupt(connect_athena, connect_session):
    sid = connect_session["id"]
    ep = connect_athena.get_session_endpoint(SessionId=sid)
    assert ep["EndpointUrl"].startswith("http://127.0.0.1:") and ep["AuthToken"]
    out = run_client(remote_url(ep, ep["AuthToken"]), "work", "interrupt")
    work = out["work"]
    assert (work["count"], work["sql"], work["udf"]) == (1000, 42, 6), work
    stopped = out["interrupt"]
    # The 120 s job was cancelled: it ended with an error soon after interruptAll().
    assert stopped["interrupted"] >= 1 and stopped["finished"], stopped
    assert stopped["error"] and stopped["elapsed"] < 60, stopped
    assert connect_athena.get_session_status(SessionId=sid)["Status"]["State"] in {"IDLE", "BUSY"}


@pytest.mark.spark
def test_connect_bad_token_refused(connect_athena, connect_session):
    ep = connect_athena.get_session_endpoint(SessionId=connect_session["id"])
    payload, sig = ep["AuthToken"].split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + sig
    out = run_client(remote_url(ep, forged), "refused", timeout=120)
    assert out["refused"]["status"] and "UNAUTHENTICATED" in out["refused"]["status"], out


@pytest.mark.spark
def test_connect_session_refuses_calculations(connect_athena, connect_session):
    with pytest.raises(connect_athena.exceptions.InvalidRequestException, match="Calculations are not supported"):
        connect_athena.start_calculation_execution(SessionId=connect_session["id"], CodeBlock="1")
    engines = [e["SelectedEngineVersion"] for e in connect_athena.list_engine_versions()["EngineVersions"]]
    assert CONNECT_ENGINE in engines and "PySpark engine version 3" in engines
    with pytest.raises(connect_athena.exceptions.ResourceNotFoundException):
        connect_athena.get_session_endpoint(SessionId="no-such-session")
