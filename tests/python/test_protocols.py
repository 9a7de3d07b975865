"""Every served operation through this environment's botocore, in the protocol its Athena model
speaks: restJson1 for today's botocore (1.44), AWS JSON 1.1 for older ones such as 1.40
(scripts/test runs this suite once with each, setting GLAUX_EXPECT_PROTOCOL)."""

import json
import os
import re
import time
import urllib.parse

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from .glaux_e2e import REPO, notebook_json, spark_workgroup_config, unique

ACCOUNT = "123456789012"


def served_operations():
    """The operations glaux serves, as its generator wrote them (internal/wire/ops_gen.go)."""
    src = (REPO / "internal" / "wire" / "ops_gen.go").read_text()
    block = src.split("var Errors = map[string][]string{", 1)[1].split("\n}", 1)[0]
    ops = set(re.findall(r'^\s*"(\w+)":', block, re.M))
    assert len(ops) > 20, f"no operations parsed from ops_gen.go: {ops}"
    return ops


class WireLog:
    """Records each Athena request as sent (method, path, X-Amz-Target) and each operation called."""

    def __init__(self, client):
        self.requests, self.ops = [], set()
        client.meta.events.register("before-send.athena", self._send)
        client.meta.events.register("after-call.athena", self._call)

    def _send(self, request, **_):
        target = request.headers.get("X-Amz-Target")
        if isinstance(target, bytes):
            target = target.decode()
        self.requests.append((request.method, urllib.parse.urlsplit(request.url).path, target))

    def _call(self, model, **_):
        self.ops.add(model.name)


def test_protocol_is_the_expected_one(athena):
    protocol = athena.meta.service_model.protocol
    assert protocol in ("rest-json", "json"), protocol
    want = os.environ.get("GLAUX_EXPECT_PROTOCOL")
    if want:
        assert protocol == want, f"botocore {botocore.__version__} speaks {protocol}, scripts/test expects {want}"
    log = WireLog(athena)
    athena.get_work_group(WorkGroup="primary")
    method, path, target = log.requests[-1]
    if protocol == "rest-json":
        assert (method, path, target) == ("GET", "/workgroups/primary", None)
    else:
        assert (method, path, target) == ("POST", "/", "AmazonAthena.GetWorkGroup")


def wait(fn, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not fn():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_every_served_operation(athena):
    log = WireLog(athena)
    wg = unique("proto")
    arn = f"arn:aws:athena:us-east-1:{ACCOUNT}:workgroup/{wg}"
    athena.create_work_group(Name=wg, Configuration=spark_workgroup_config(), Tags=[{"Key": "team", "Value": "data"}])
    assert athena.get_work_group(WorkGroup=wg)["WorkGroup"]["Name"] == wg
    athena.update_work_group(WorkGroup=wg, Description="updated")
    assert athena.get_work_group(WorkGroup=wg)["WorkGroup"]["Description"] == "updated"
    first = athena.list_work_groups(MaxResults=1)
    second = athena.list_work_groups(MaxResults=1, NextToken=first["NextToken"])
    assert first["WorkGroups"][0]["Name"] != second["WorkGroups"][0]["Name"]
    assert athena.list_engine_versions()["EngineVersions"]
    assert athena.list_application_dpu_sizes()["ApplicationDPUSizes"]

    # Tags on an ARN (':' and '/' in a path label under restJson1), a query-string list to untag.
    athena.tag_resource(ResourceARN=arn, Tags=[{"Key": f"k{i}", "Value": str(i)} for i in range(49)])
    pages = list(athena.get_paginator("list_tags_for_resource").paginate(ResourceARN=arn, PaginationConfig={"PageSize": 75}))
    assert sum(len(p["Tags"]) for p in pages) == 50
    athena.untag_resource(ResourceARN=arn, TagKeys=[f"k{i}" for i in range(49)])
    assert athena.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "data"}]

    nb = athena.create_notebook(WorkGroup=wg, Name="n1")["NotebookId"]
    nb2 = athena.import_notebook(WorkGroup=wg, Name="n2", Payload=notebook_json("1 + 1"), Type="IPYNB")["NotebookId"]
    assert "1 + 1" in athena.export_notebook(NotebookId=nb2)["Payload"]
    athena.update_notebook(NotebookId=nb2, Payload=notebook_json("2 + 2"), Type="IPYNB")
    athena.update_notebook_metadata(NotebookId=nb2, Name="n2-renamed")
    assert athena.get_notebook_metadata(NotebookId=nb2)["NotebookMetadata"]["Name"] == "n2-renamed"
    assert len(athena.list_notebook_metadata(WorkGroup=wg)["NotebookMetadataList"]) == 2

    sid = athena.start_session(
        WorkGroup=wg, NotebookVersion="Athena notebook version 1",
        EngineConfiguration={"MaxConcurrentDpus": 2, "AdditionalConfigs": {"NotebookId": nb}},
    )["SessionId"]
    wait(lambda: athena.get_session_status(SessionId=sid)["Status"]["State"] == "IDLE", "an IDLE session")
    assert athena.get_session(SessionId=sid)["WorkGroup"] == wg
    assert [s["SessionId"] for s in athena.list_sessions(WorkGroup=wg, StateFilter="IDLE")["Sessions"]] == [sid]
    athena.list_executors(SessionId=sid, ExecutorStateFilter="CREATED")
    if "GetResourceDashboard" in athena.meta.service_model.operation_names:  # botocore >= 1.41's model
        # --fake-spark has no Spark UI: routed (the ARN as one path label) and refused as glaux says.
        with pytest.raises(athena.exceptions.InvalidRequestException, match="has no Spark UI"):
            athena.get_resource_dashboard(ResourceARN=f"arn:aws:athena:us-east-1:{ACCOUNT}:workgroup/{wg}/session/{sid}")
    if "GetSessionEndpoint" in athena.meta.service_model.operation_names:  # botocore >= 1.41's model
        # A PySpark-3 session has no Spark Connect server: routed and refused (test_connect.py gets one).
        with pytest.raises(athena.exceptions.InvalidRequestException, match="Apache Spark version 3.5"):
            athena.get_session_endpoint(SessionId=sid)
    assert len(athena.list_notebook_sessions(NotebookId=nb, MaxResults=10)["NotebookSessionsList"]) == 1
    assert athena.create_presigned_notebook_url(SessionId=sid)["NotebookUrl"]
    cid = athena.start_calculation_execution(SessionId=sid, CodeBlock="print(6 * 7)")["CalculationExecutionId"]
    wait(lambda: athena.get_calculation_execution_status(CalculationExecutionId=cid)["Status"]["State"] == "COMPLETED", "a COMPLETED calculation")
    assert athena.get_calculation_execution(CalculationExecutionId=cid)["SessionId"] == sid
    assert athena.get_calculation_execution_code(CalculationExecutionId=cid)["CodeBlock"] == "print(6 * 7)"
    assert len(athena.list_calculation_executions(SessionId=sid, StateFilter="COMPLETED")["Calculations"]) == 1
    athena.stop_calculation_execution(CalculationExecutionId=cid)
    athena.terminate_session(SessionId=sid)
    athena.delete_notebook(NotebookId=nb)
    athena.delete_notebook(NotebookId=nb2)
    athena.delete_work_group(WorkGroup=wg, RecursiveDeleteOption=True)

    # Athena SQL needs the shared catalog, which the fake-Spark server has not (docs/dbt.md;
    # TestDBT runs it for real): the calls still go through this protocol's bindings.
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.start_query_execution(QueryString="SELECT 1")
    assert "shared table catalog" in e.value.response["Error"]["Message"]
    qid = "0b9f8a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    for call in (athena.get_query_execution, athena.get_query_results, athena.stop_query_execution):
        with pytest.raises(athena.exceptions.InvalidRequestException) as e:
            call(QueryExecutionId=qid)
        assert qid in e.value.response["Error"]["Message"]

    # Operations newer than this botocore's model (GetResourceDashboard, GetSessionEndpoint for 1.40)
    # cannot be called.
    missing = (served_operations() & set(athena.meta.service_model.operation_names)) - log.ops
    assert not missing, f"not called through {athena.meta.service_model.protocol}: {sorted(missing)}"


def test_errors_as_botocore_parses_them(athena):
    with pytest.raises(athena.exceptions.ResourceNotFoundException) as e:
        athena.list_tags_for_resource(ResourceARN=f"arn:aws:athena:us-east-1:{ACCOUNT}:workgroup/{unique('none')}")
    err = e.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400 and err["Error"]["Message"], err
    assert err["ResponseMetadata"]["RequestId"]

    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.get_session(SessionId="no-such-session")
    err = e.value.response
    assert err["Error"]["Code"] == "InvalidRequestException"
    assert err["AthenaErrorCode"] == "RESOURCE_NOT_FOUND", err
    assert "no-such-session" in err["Error"]["Message"]

    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.list_named_queries()
    assert e.value.response["AthenaErrorCode"] == "UNSUPPORTED_OPERATION"

    with pytest.raises(botocore.exceptions.ClientError) as e:
        athena.create_work_group(Name="bad name!", Configuration=spark_workgroup_config())
    assert e.value.response["Error"]["Code"] == "InvalidRequestException"
    assert e.value.response["AthenaErrorCode"] == "INVALID_INPUT"


def test_s3_on_the_api_endpoint(athena, spark_workgroup):
    """PyAthena passes its endpoint_url to its S3 client too: result objects are readable there."""
    sid = athena.start_session(WorkGroup=spark_workgroup, EngineConfiguration={"MaxConcurrentDpus": 2})["SessionId"]
    wait(lambda: athena.get_session_status(SessionId=sid)["Status"]["State"] == "IDLE", "an IDLE session")
    cid = athena.start_calculation_execution(SessionId=sid, CodeBlock="print(6 * 7)")["CalculationExecutionId"]
    wait(lambda: athena.get_calculation_execution_status(CalculationExecutionId=cid)["Status"]["State"] == "COMPLETED", "a COMPLETED calculation")
    uri = athena.get_calculation_execution(CalculationExecutionId=cid)["Result"]["StdOutS3Uri"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    s3 = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1").client(
        "s3", endpoint_url=athena.meta.endpoint_url,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().strip() == "42"
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 3
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key.rsplit("/", 1)[0] + "/")
    assert key in [o["Key"] for o in listed["Contents"]]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="written", Body=b"x")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    athena.terminate_session(SessionId=sid)


def test_cli_speaks_the_same_protocol(aws, athena):
    """The AWS CLI of the run sends what boto3 sends: restJson1 request lines or AWS JSON 1.1."""
    p = aws.run("get-work-group", "--work-group", "primary", "--debug")
    assert p.returncode == 0, p.stderr
    sent = re.search(r"Sending http request: <AWSPreparedRequest .*?method=(\w+), url=(\S+),", p.stderr)
    assert sent, p.stderr[-2000:]
    method, url = sent.groups()
    if athena.meta.service_model.protocol == "rest-json":
        assert (method, urllib.parse.urlsplit(url).path) == ("GET", "/workgroups/primary")
    else:
        assert (method, urllib.parse.urlsplit(url).path) == ("POST", "/")
        assert "AmazonAthena.GetWorkGroup" in p.stderr
    out = json.loads(p.stdout)
    assert out["WorkGroup"]["Configuration"]["EnforceWorkGroupConfiguration"] is False
