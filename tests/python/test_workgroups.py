"""Workgroups, engine versions and tags through boto3 and the AWS CLI (fake-Spark server)."""

import datetime
import json
import time

import botocore.exceptions
import pytest

from .glaux_e2e import EXECUTION_ROLE, SPARK_ENGINE, spark_workgroup_config, unique

ACCOUNT = "123456789012"


def wg_arn(name):
    return f"arn:aws:athena:us-east-1:{ACCOUNT}:workgroup/{name}"


def all_tags(client, arn, page_size=None):
    """Every tag of a resource through botocore's ListTagsForResource paginator."""
    paginator = client.get_paginator("list_tags_for_resource")
    config = {"PageSize": page_size} if page_size else {}
    pages = list(paginator.paginate(ResourceARN=arn, PaginationConfig=config))
    assert pages, "the paginator yielded no page"
    return {t["Key"]: t["Value"] for p in pages for t in p["Tags"]}, pages


def list_all_work_groups(client, page_size):
    """ListWorkGroups page by page by hand (botocore has no paginator for it)."""
    names, pages, token = [], 0, None
    while True:
        kwargs = {"MaxResults": page_size}
        if token:
            kwargs["NextToken"] = token
        out = client.list_work_groups(**kwargs)
        pages += 1
        assert len(out["WorkGroups"]) <= page_size
        names += [w["Name"] for w in out["WorkGroups"]]
        token = out.get("NextToken")
        if not token:
            assert "NextToken" not in out, "the last page must omit NextToken, not send it empty"
            return names, pages
        assert out["WorkGroups"], "a page with a NextToken has items"
        assert pages < 1000, "NextToken never ends"


def assert_invalid_request(excinfo, athena_code=None, message_part=None):
    err = excinfo.value.response
    assert err["Error"]["Code"] == "InvalidRequestException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["ResponseMetadata"]["RequestId"]
    assert err["Error"]["Message"]
    if athena_code:
        assert err.get("AthenaErrorCode") == athena_code, err
    if message_part:
        assert message_part in err["Error"]["Message"], err["Error"]["Message"]
    return err


# --------------------------------------------------------------------------- boto3


def test_spark_workgroup_lifecycle_boto3(athena):
    name = unique("spark")
    athena.create_work_group(
        Name=name,
        Description="Spark workgroup made by pytest",
        Configuration=spark_workgroup_config(
            ResultConfiguration={"OutputLocation": "s3://pytest-results/spark/"},
            PublishCloudWatchMetricsEnabled=True,
        ),
        Tags=[{"Key": "team", "Value": "data"}, {"Key": "env", "Value": "test"}],
    )

    wg = athena.get_work_group(WorkGroup=name)["WorkGroup"]
    assert wg["Name"] == name
    assert wg["State"] == "ENABLED"
    assert wg["Description"] == "Spark workgroup made by pytest"
    assert isinstance(wg["CreationTime"], datetime.datetime)  # an epoch-seconds number on the wire
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - wg["CreationTime"]).total_seconds()) < 300
    cfg = wg["Configuration"]
    assert cfg["EngineVersion"] == {"SelectedEngineVersion": SPARK_ENGINE, "EffectiveEngineVersion": SPARK_ENGINE}
    assert cfg["ExecutionRole"] == EXECUTION_ROLE
    assert cfg["ResultConfiguration"]["OutputLocation"] == "s3://pytest-results/spark/"
    assert cfg["PublishCloudWatchMetricsEnabled"] is True

    # Update: new description, disable, and remove the output location with its Remove* flag.
    athena.update_work_group(
        WorkGroup=name,
        Description="updated",
        State="DISABLED",
        ConfigurationUpdates={
            "ResultConfigurationUpdates": {"RemoveOutputLocation": True},
            "PublishCloudWatchMetricsEnabled": False,
            "AdditionalConfiguration": json.dumps({"spark.sql.shuffle.partitions": "4"}),
        },
    )
    wg = athena.get_work_group(WorkGroup=name)["WorkGroup"]
    assert wg["Description"] == "updated"
    assert wg["State"] == "DISABLED"
    cfg = wg["Configuration"]
    assert "OutputLocation" not in cfg.get("ResultConfiguration", {})
    assert cfg["PublishCloudWatchMetricsEnabled"] is False
    assert json.loads(cfg["AdditionalConfiguration"]) == {"spark.sql.shuffle.partitions": "4"}
    assert cfg["EngineVersion"]["EffectiveEngineVersion"] == SPARK_ENGINE
    assert cfg["ExecutionRole"] == EXECUTION_ROLE  # untouched members stay

    # Set the location again, and check that a set + remove of the same member is refused.
    athena.update_work_group(
        WorkGroup=name, State="ENABLED",
        ConfigurationUpdates={"ResultConfigurationUpdates": {"OutputLocation": "s3://pytest-results/again/"}},
    )
    wg = athena.get_work_group(WorkGroup=name)["WorkGroup"]
    assert wg["State"] == "ENABLED"
    assert wg["Configuration"]["ResultConfiguration"]["OutputLocation"] == "s3://pytest-results/again/"
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.update_work_group(
            WorkGroup=name,
            ConfigurationUpdates={"ResultConfigurationUpdates": {"OutputLocation": "s3://x/y/", "RemoveOutputLocation": True}},
        )
    assert_invalid_request(e)

    # The summary in ListWorkGroups.
    summaries = {w["Name"]: w for w in athena.list_work_groups()["WorkGroups"]}
    assert "primary" in summaries
    s = summaries[name]
    assert s["State"] == "ENABLED" and s["Description"] == "updated"
    assert s["EngineVersion"]["EffectiveEngineVersion"] == SPARK_ENGINE
    assert isinstance(s["CreationTime"], datetime.datetime)

    # Tags: the ones given at creation, then tag / untag.
    tags, _ = all_tags(athena, wg_arn(name))
    assert tags == {"team": "data", "env": "test"}
    athena.tag_resource(ResourceARN=wg_arn(name), Tags=[{"Key": "team", "Value": "platform"}, {"Key": "cost", "Value": "42"}])
    athena.untag_resource(ResourceARN=wg_arn(name), TagKeys=["env"])
    tags, _ = all_tags(athena, wg_arn(name))
    assert tags == {"team": "platform", "cost": "42"}

    # Delete: refused while it has a notebook, unless recursive.
    nb = athena.create_notebook(WorkGroup=name, Name="kept")["NotebookId"]
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.delete_work_group(WorkGroup=name)
    assert_invalid_request(e)
    assert athena.get_notebook_metadata(NotebookId=nb)["NotebookMetadata"]["Name"] == "kept"
    athena.delete_work_group(WorkGroup=name, RecursiveDeleteOption=True)

    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.get_work_group(WorkGroup=name)
    assert_invalid_request(e, message_part=name)
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.get_notebook_metadata(NotebookId=nb)
    assert name not in {w["Name"] for w in athena.list_work_groups()["WorkGroups"]}
    # Its tags went with it: tagging calls now name a missing resource.
    with pytest.raises(athena.exceptions.ResourceNotFoundException) as e:
        athena.list_tags_for_resource(ResourceARN=wg_arn(name))
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_list_work_groups_next_token_by_hand(athena):
    with pytest.raises(botocore.exceptions.OperationNotPageableError):
        athena.get_paginator("list_work_groups")  # botocore has no paginator: callers loop on NextToken

    prefix = unique("page")
    created = [f"{prefix}-{i}" for i in range(5)]
    for n in created:
        athena.create_work_group(Name=n, Configuration=spark_workgroup_config())
    try:
        names, pages = list_all_work_groups(athena, page_size=2)
        assert len(names) == len(set(names)), f"a workgroup was listed twice: {names}"
        assert set(created) <= set(names)
        assert "primary" in names
        assert pages >= 3
        # Every page size gives the same list.
        assert list_all_work_groups(athena, page_size=50)[0] == names
        assert list_all_work_groups(athena, page_size=1)[0] == names
    finally:
        for n in created:
            athena.delete_work_group(WorkGroup=n)

    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.list_work_groups(NextToken="not-a-token-glaux-ever-gave")
    assert_invalid_request(e)


def test_list_engine_versions(athena):
    out = athena.list_engine_versions()
    versions = [v["EffectiveEngineVersion"] for v in out["EngineVersions"]]
    assert SPARK_ENGINE in versions
    assert "Athena engine version 3" in versions
    assert "NextToken" not in out

    seen, token = [], None
    while True:
        page = athena.list_engine_versions(MaxResults=1, **({"NextToken": token} if token else {}))
        assert len(page["EngineVersions"]) <= 1
        seen += [v["EffectiveEngineVersion"] for v in page["EngineVersions"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == versions


def test_tags_paginator(athena):
    name = unique("tags")
    tags = [{"Key": f"k{i:02d}", "Value": f"v{i}"} for i in range(40)]
    athena.create_work_group(Name=name, Configuration=spark_workgroup_config(), Tags=tags[:20])
    try:
        athena.tag_resource(ResourceARN=wg_arn(name), Tags=tags[20:])
        got, pages = all_tags(athena, wg_arn(name), page_size=75)  # 75 is MaxTagsCount's minimum
        assert got == {t["Key"]: t["Value"] for t in tags}
        assert all("NextToken" not in p for p in pages[-1:])
        # botocore checks MaxResults' minimum (75) before sending anything.
        with pytest.raises(botocore.exceptions.ParamValidationError):
            athena.list_tags_for_resource(ResourceARN=wg_arn(name), MaxResults=10)
    finally:
        athena.delete_work_group(WorkGroup=name)

    with pytest.raises(athena.exceptions.ResourceNotFoundException) as e:
        athena.tag_resource(ResourceARN=wg_arn(unique("missing")), Tags=[{"Key": "a", "Value": "b"}])
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.list_tags_for_resource(ResourceARN="not-an-arn")


def test_workgroup_errors_boto3(athena):
    # botocore checks no pattern and no max length: the server must refuse a 129-char name.
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.create_work_group(Name="w" * 129, Configuration=spark_workgroup_config())
    assert_invalid_request(e)
    assert "w" * 129 not in {w["Name"] for w in athena.list_work_groups(MaxResults=50)["WorkGroups"]}
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.create_work_group(Name="bad name!", Configuration=spark_workgroup_config())
    assert_invalid_request(e)
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.get_work_group(WorkGroup="x" * 129)
    assert_invalid_request(e)

    # A Spark workgroup needs an execution role (Athena's own message).
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.create_work_group(Name=unique("norole"), Configuration={"EngineVersion": {"SelectedEngineVersion": SPARK_ENGINE}})
    assert_invalid_request(e, athena_code="INVALID_INPUT", message_part="executionRole is null or empty")

    # An unknown engine version, a duplicate name, the primary workgroup.
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.create_work_group(Name=unique("eng"), Configuration={"EngineVersion": {"SelectedEngineVersion": "Spark 99"}})
    name = unique("dup")
    athena.create_work_group(Name=name, Configuration=spark_workgroup_config())
    try:
        with pytest.raises(athena.exceptions.InvalidRequestException) as e:
            athena.create_work_group(Name=name, Configuration=spark_workgroup_config())
        assert_invalid_request(e, message_part=name)
        # Switching engine type (Spark -> SQL) is refused.
        with pytest.raises(athena.exceptions.InvalidRequestException):
            athena.update_work_group(WorkGroup=name, ConfigurationUpdates={"EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"}})
    finally:
        athena.delete_work_group(WorkGroup=name)
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.delete_work_group(WorkGroup="primary")
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.update_work_group(WorkGroup=unique("missing"), Description="x")

    # botocore itself refuses what breaks a model `min` or `required`: nothing is sent.
    with pytest.raises(botocore.exceptions.ParamValidationError):
        athena.create_work_group(Configuration=spark_workgroup_config())
    with pytest.raises(botocore.exceptions.ParamValidationError):
        athena.list_work_groups(MaxResults=0)


# --------------------------------------------------------------------------- AWS CLI


def test_spark_workgroup_lifecycle_cli(aws):
    name = unique("cli")
    out = aws(
        "create-work-group", "--name", name, "--description", "made by the CLI",
        "--configuration", json.dumps(spark_workgroup_config(ResultConfiguration={"OutputLocation": "s3://cli-results/out/"})),
        "--tags", "Key=owner,Value=cli", "Key=stage,Value=dev",
    )
    assert out == {}

    wg = aws("get-work-group", "--work-group", name)["WorkGroup"]
    assert wg["Name"] == name and wg["State"] == "ENABLED" and wg["Description"] == "made by the CLI"
    assert wg["Configuration"]["EngineVersion"]["EffectiveEngineVersion"] == SPARK_ENGINE
    assert wg["Configuration"]["ResultConfiguration"]["OutputLocation"] == "s3://cli-results/out/"
    # AWS CLI v1 prints timestamps as they came on the wire: epoch seconds, a JSON number.
    assert isinstance(wg["CreationTime"], (int, float)) and abs(wg["CreationTime"] - time.time()) < 300

    aws(
        "update-work-group", "--work-group", name, "--description", "changed",
        "--configuration-updates", json.dumps({"ResultConfigurationUpdates": {"RemoveOutputLocation": True}, "RequesterPaysEnabled": True}),
    )
    wg = aws("get-work-group", "--work-group", name)["WorkGroup"]
    assert wg["Description"] == "changed"
    assert "OutputLocation" not in wg["Configuration"].get("ResultConfiguration", {})
    assert wg["Configuration"]["RequesterPaysEnabled"] is True

    # The CLI does not paginate ListWorkGroups: it prints NextToken, and we follow it.
    names, token = [], None
    while True:
        page = aws("list-work-groups", "--max-results", "1", *(["--next-token", token] if token else []))
        assert len(page["WorkGroups"]) <= 1
        names += [w["Name"] for w in page["WorkGroups"]]
        token = page.get("NextToken")
        if not token:
            break
    assert name in names and "primary" in names

    versions = aws("list-engine-versions")["EngineVersions"]
    assert SPARK_ENGINE in [v["EffectiveEngineVersion"] for v in versions]

    arn = wg_arn(name)
    tags = aws("list-tags-for-resource", "--resource-arn", arn)["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"owner": "cli", "stage": "dev"}
    aws("tag-resource", "--resource-arn", arn, "--tags", "Key=stage,Value=prod")
    aws("untag-resource", "--resource-arn", arn, "--tag-keys", "owner")
    tags = aws("list-tags-for-resource", "--resource-arn", arn)["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"stage": "prod"}

    nb = aws("create-notebook", "--work-group", name, "--name", "cli notebook")["NotebookId"]
    rc, err = aws.fails("delete-work-group", "--work-group", name)
    assert "InvalidRequestException" in err
    aws("delete-work-group", "--work-group", name, "--recursive-delete-option")
    rc, err = aws.fails("get-notebook-metadata", "--notebook-id", nb)
    assert "InvalidRequestException" in err

    rc, err = aws.fails("get-work-group", "--work-group", name)
    assert rc in (254, 255), (rc, err)  # a service error: 255 in AWS CLI v1, 254 in v2
    assert "An error occurred (InvalidRequestException) when calling the GetWorkGroup operation" in err
    assert name in err


def test_workgroup_errors_cli(aws):
    rc, err = aws.fails("create-work-group", "--name", "n" * 129, "--configuration", json.dumps(spark_workgroup_config()))
    assert rc in (254, 255), (rc, err)
    assert "(InvalidRequestException) when calling the CreateWorkGroup operation" in err

    rc, err = aws.fails("create-work-group", "--name", unique("norole"),
                        "--configuration", json.dumps({"EngineVersion": {"SelectedEngineVersion": SPARK_ENGINE}}))
    assert rc in (254, 255) and "executionRole is null or empty" in err, err

    rc, err = aws.fails("delete-work-group", "--work-group", "primary")
    assert rc in (254, 255) and "InvalidRequestException" in err, err

    # A parameter error caught by botocore before sending: the CLI's own exit code.
    rc, err = aws.fails("list-work-groups", "--max-results", "0")
    assert rc in (252, 255), (rc, err)
    assert "Parameter validation failed" in err and "MaxResults" in err
