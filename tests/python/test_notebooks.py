"""Notebooks through boto3 and the AWS CLI (fake-Spark server)."""

import datetime
import json
import re
import time
import uuid

import botocore.exceptions
import pytest

from .glaux_e2e import notebook_json, unique, wait_session_state

UUID_RE = re.compile(r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}")


def list_names(client, workgroup, name_filter=None, page_size=None):
    """ListNotebookMetadata page by page by hand (no paginator in botocore)."""
    names, token = [], None
    while True:
        kwargs = {"WorkGroup": workgroup}
        if name_filter is not None:
            kwargs["Filters"] = {"Name": name_filter}
        if page_size:
            kwargs["MaxResults"] = page_size
        if token:
            kwargs["NextToken"] = token
        out = client.list_notebook_metadata(**kwargs)
        if page_size:
            assert len(out.get("NotebookMetadataList", [])) <= page_size
        for m in out.get("NotebookMetadataList", []):  # test_empty_lists_are_sent checks the key itself
            assert m["WorkGroup"] == workgroup
            names.append(m["Name"])
        token = out.get("NextToken")
        if not token:
            return names


def invalid(excinfo, athena_code=None):
    err = excinfo.value.response
    assert err["Error"]["Code"] == "InvalidRequestException", err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["Error"]["Message"]
    if athena_code:
        assert err.get("AthenaErrorCode") == athena_code, err
    return err


# --------------------------------------------------------------------------- boto3


def test_notebook_lifecycle_boto3(athena, spark_workgroup):
    wg = spark_workgroup
    created = athena.create_notebook(WorkGroup=wg, Name="analysis")
    nb = created["NotebookId"]
    assert UUID_RE.fullmatch(nb), nb

    meta = athena.get_notebook_metadata(NotebookId=nb)["NotebookMetadata"]
    assert meta["NotebookId"] == nb and meta["Name"] == "analysis" and meta["WorkGroup"] == wg
    assert meta["Type"] == "IPYNB"
    assert isinstance(meta["CreationTime"], datetime.datetime)
    assert isinstance(meta["LastModifiedTime"], datetime.datetime)

    # A new notebook exports as an empty nbformat-4 document, as a JSON *string*.
    exported = athena.export_notebook(NotebookId=nb)
    assert exported["NotebookMetadata"]["NotebookId"] == nb
    assert isinstance(exported["Payload"], str)
    doc = json.loads(exported["Payload"])
    assert doc["nbformat"] == 4 and doc["cells"] == []

    # Import one from a payload; export gives back the same document.
    payload = notebook_json("df = spark.range(10)\nprint(df.count())", "%%sql\nSELECT 1")
    imported = athena.import_notebook(WorkGroup=wg, Name="imported report", Payload=payload, Type="IPYNB")["NotebookId"]
    assert imported != nb
    assert json.loads(athena.export_notebook(NotebookId=imported)["Payload"]) == json.loads(payload)

    # Update the content.
    before = athena.get_notebook_metadata(NotebookId=nb)["NotebookMetadata"]["LastModifiedTime"]
    time.sleep(0.05)
    new_payload = notebook_json("print('updated')")
    assert athena.update_notebook(NotebookId=nb, Payload=new_payload, Type="IPYNB")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert json.loads(athena.export_notebook(NotebookId=nb)["Payload"]) == json.loads(new_payload)
    after = athena.get_notebook_metadata(NotebookId=nb)["NotebookMetadata"]["LastModifiedTime"]
    assert after > before

    # Rename; a name another notebook has is refused.
    athena.update_notebook_metadata(NotebookId=nb, Name="analysis v2")
    assert athena.get_notebook_metadata(NotebookId=nb)["NotebookMetadata"]["Name"] == "analysis v2"
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.update_notebook_metadata(NotebookId=nb, Name="imported report")
    invalid(e)
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.create_notebook(WorkGroup=wg, Name="analysis v2")
    invalid(e)

    assert sorted(list_names(athena, wg)) == ["analysis v2", "imported report"]

    # Delete.
    athena.delete_notebook(NotebookId=nb)
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.get_notebook_metadata(NotebookId=nb)  # notebook ops do not list ResourceNotFoundException
    invalid(e)
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.export_notebook(NotebookId=nb)
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.delete_notebook(NotebookId=nb)
    assert list_names(athena, wg) == ["imported report"]


def test_list_notebooks_filter_and_pages(athena, spark_workgroup):
    wg = spark_workgroup
    for n in ["sales-report", "sales-forecast", "hr-roster", "Sales summary", "ops"]:
        athena.create_notebook(WorkGroup=wg, Name=n)

    everything = list_names(athena, wg)
    assert sorted(everything) == sorted(["sales-report", "sales-forecast", "hr-roster", "Sales summary", "ops"])
    assert list_names(athena, wg, page_size=2) == everything
    assert list_names(athena, wg, page_size=1) == everything

    sales = list_names(athena, wg, name_filter="sales")
    assert {"sales-report", "sales-forecast"} <= set(sales)
    assert not {"hr-roster", "ops"} & set(sales)
    assert list_names(athena, wg, name_filter="sales", page_size=1) == sales
    assert list_names(athena, wg, name_filter="nothing-matches-this") == []

    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.list_notebook_metadata(WorkGroup=wg, NextToken="garbage!")
    with pytest.raises(botocore.exceptions.OperationNotPageableError):
        athena.get_paginator("list_notebook_metadata")


def test_empty_lists_are_sent(athena, spark_workgroup):
    """An empty list result is sent as [] (boto3 code reads out["NotebookMetadataList"] directly)."""
    assert athena.list_notebook_metadata(WorkGroup=spark_workgroup)["NotebookMetadataList"] == []
    assert athena.list_sessions(WorkGroup=spark_workgroup)["Sessions"] == []


def test_import_from_object_location(athena, fake_server, spark_workgroup):
    payload = notebook_json("print(42)")
    path = fake_server.object_path("s3://pytest-notebooks/in/etl.ipynb")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(payload)
    nb = athena.import_notebook(
        WorkGroup=spark_workgroup, Name="from s3", Type="IPYNB", NotebookS3LocationUri="s3://pytest-notebooks/in/etl.ipynb",
    )["NotebookId"]
    assert json.loads(athena.export_notebook(NotebookId=nb)["Payload"]) == json.loads(payload)

    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.import_notebook(WorkGroup=spark_workgroup, Name="missing", Type="IPYNB",
                               NotebookS3LocationUri="s3://pytest-notebooks/in/nope.ipynb")
    with pytest.raises(athena.exceptions.InvalidRequestException):  # exactly one source
        athena.import_notebook(WorkGroup=spark_workgroup, Name="both", Type="IPYNB", Payload=payload,
                               NotebookS3LocationUri="s3://pytest-notebooks/in/etl.ipynb")
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.import_notebook(WorkGroup=spark_workgroup, Name="neither", Type="IPYNB")


def test_client_request_token(athena, spark_workgroup):
    token = str(uuid.uuid4())
    first = athena.create_notebook(WorkGroup=spark_workgroup, Name="once", ClientRequestToken=token)["NotebookId"]
    again = athena.create_notebook(WorkGroup=spark_workgroup, Name="once", ClientRequestToken=token)["NotebookId"]
    assert again == first
    assert list_names(athena, spark_workgroup) == ["once"]

    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.create_notebook(WorkGroup=spark_workgroup, Name="other name", ClientRequestToken=token)
    err = invalid(e, athena_code="IDEMPOTENT_PARAMETER_MISMATCH")
    assert "Idempotent parameters do not match" in err["Error"]["Message"]

    # Renames are idempotent by token too.
    rename_token = str(uuid.uuid4())
    athena.update_notebook_metadata(NotebookId=first, Name="renamed", ClientRequestToken=rename_token)
    athena.update_notebook_metadata(NotebookId=first, Name="renamed", ClientRequestToken=rename_token)
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.update_notebook_metadata(NotebookId=first, Name="renamed again", ClientRequestToken=rename_token)
    invalid(e, athena_code="IDEMPOTENT_PARAMETER_MISMATCH")

    # The notebook token shape is a lowercase UUID; botocore does not check the pattern.
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.create_notebook(WorkGroup=spark_workgroup, Name="bad token", ClientRequestToken="NOT-A-UUID")


def test_notebook_errors_boto3(athena, spark_workgroup):
    wg = spark_workgroup
    # The name pattern excludes / : and \ -- botocore does not check patterns, glaux must.
    for bad in ["a/b", "c:d", "e\\f"]:
        with pytest.raises(athena.exceptions.InvalidRequestException) as e:
            athena.create_notebook(WorkGroup=wg, Name=bad)
        invalid(e)
    # ... nor max lengths (NotebookName is 1..255).
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.create_notebook(WorkGroup=wg, Name="n" * 256)
    invalid(e)
    athena.create_notebook(WorkGroup=wg, Name="n" * 255)
    # The minimum (1) is botocore's own check.
    with pytest.raises(botocore.exceptions.ParamValidationError):
        athena.create_notebook(WorkGroup=wg, Name="")
    assert list_names(athena, wg) == ["n" * 255]

    # Notebooks live in Spark workgroups only.
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.create_notebook(WorkGroup="primary", Name="sql")
    invalid(e)
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.create_notebook(WorkGroup=unique("missing"), Name="x")

    # A payload that is not an ipynb document.
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.import_notebook(WorkGroup=wg, Name="broken", Payload="{not json", Type="IPYNB")
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.import_notebook(WorkGroup=wg, Name="slash/name", Payload=notebook_json("1"), Type="IPYNB")

    # Unknown notebooks: InvalidRequestException from notebook ops, ResourceNotFoundException
    # from ListNotebookSessions (which lists it).
    missing = str(uuid.uuid4())
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.update_notebook(NotebookId=missing, Payload=notebook_json("1"), Type="IPYNB")
    with pytest.raises(athena.exceptions.ResourceNotFoundException) as e:
        athena.list_notebook_sessions(NotebookId=missing)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_notebook_session(athena, spark_workgroup):
    """A notebook's session: listed by ListNotebookSessions; rename and delete wait for its end."""
    nb = athena.create_notebook(WorkGroup=spark_workgroup, Name="with session")["NotebookId"]
    with pytest.raises(athena.exceptions.InvalidRequestException) as e:
        athena.start_session(WorkGroup=spark_workgroup, EngineConfiguration={"MaxConcurrentDpus": 2, "AdditionalConfigs": {"NotebookId": nb}})
    assert "NotebookVersion is required when NotebookId is provided." in invalid(e)["Error"]["Message"]

    sid = athena.start_session(
        WorkGroup=spark_workgroup, NotebookVersion="Athena notebook version 1",
        EngineConfiguration={"MaxConcurrentDpus": 2, "AdditionalConfigs": {"NotebookId": nb}},
    )["SessionId"]
    try:
        wait_session_state(athena, sid, {"IDLE"}, timeout=30)
        sessions = athena.list_notebook_sessions(NotebookId=nb)["NotebookSessionsList"]
        assert [s["SessionId"] for s in sessions] == [sid]
        assert isinstance(sessions[0]["CreationTime"], datetime.datetime)

        with pytest.raises(athena.exceptions.InvalidRequestException):
            athena.delete_notebook(NotebookId=nb)
        with pytest.raises(athena.exceptions.InvalidRequestException):
            athena.update_notebook_metadata(NotebookId=nb, Name="renamed")
        with pytest.raises(athena.exceptions.InvalidRequestException):  # SessionId is needed now
            athena.update_notebook(NotebookId=nb, Payload=notebook_json("1"), Type="IPYNB")
        athena.update_notebook(NotebookId=nb, Payload=notebook_json("1"), Type="IPYNB", SessionId=sid)
    finally:
        athena.terminate_session(SessionId=sid)
    wait_session_state(athena, sid, {"TERMINATED"}, timeout=30)
    athena.update_notebook_metadata(NotebookId=nb, Name="renamed")
    athena.delete_notebook(NotebookId=nb)


# --------------------------------------------------------------------------- AWS CLI


def test_notebook_lifecycle_cli(aws, athena, spark_workgroup, tmp_path):
    wg = spark_workgroup
    nb = aws("create-notebook", "--work-group", wg, "--name", "cli analysis")["NotebookId"]
    assert UUID_RE.fullmatch(nb)

    payload = notebook_json("print(spark.range(5).count())")
    src = tmp_path / "in.ipynb"
    src.write_text(payload)
    imported = aws("import-notebook", "--work-group", wg, "--name", "cli import", "--type", "IPYNB",
                   "--payload", f"file://{src}")["NotebookId"]
    out = aws("export-notebook", "--notebook-id", imported)
    assert out["NotebookMetadata"]["Name"] == "cli import"
    assert json.loads(out["Payload"]) == json.loads(payload)

    updated = notebook_json("print('from the CLI')")
    src.write_text(updated)
    aws("update-notebook", "--notebook-id", nb, "--payload", f"file://{src}", "--type", "IPYNB")
    assert json.loads(aws("export-notebook", "--notebook-id", nb)["Payload"]) == json.loads(updated)

    aws("update-notebook-metadata", "--notebook-id", nb, "--name", "cli renamed")
    meta = aws("get-notebook-metadata", "--notebook-id", nb)["NotebookMetadata"]
    assert meta["Name"] == "cli renamed" and meta["Type"] == "IPYNB"

    listed = aws("list-notebook-metadata", "--work-group", wg, "--filters", "Name=renamed")["NotebookMetadataList"]
    assert [m["NotebookId"] for m in listed] == [nb]
    page = aws("list-notebook-metadata", "--work-group", wg, "--max-results", "1")
    assert len(page["NotebookMetadataList"]) == 1 and page["NextToken"]
    rest = aws("list-notebook-metadata", "--work-group", wg, "--max-results", "1", "--next-token", page["NextToken"])
    assert "NextToken" not in rest
    assert {page["NotebookMetadataList"][0]["NotebookId"], rest["NotebookMetadataList"][0]["NotebookId"]} == {nb, imported}

    aws("delete-notebook", "--notebook-id", nb)
    rc, err = aws.fails("get-notebook-metadata", "--notebook-id", nb)
    assert rc in (254, 255), (rc, err)
    assert "An error occurred (InvalidRequestException) when calling the GetNotebookMetadata operation" in err
    assert [m["Name"] for m in athena.list_notebook_metadata(WorkGroup=wg)["NotebookMetadataList"]] == ["cli import"]


def test_notebook_errors_cli(aws, spark_workgroup):
    rc, err = aws.fails("create-notebook", "--work-group", spark_workgroup, "--name", "has/slash")
    assert rc in (254, 255), (rc, err)
    assert "(InvalidRequestException) when calling the CreateNotebook operation" in err

    token = str(uuid.uuid4())
    aws("create-notebook", "--work-group", spark_workgroup, "--name", "tok", "--client-request-token", token)
    rc, err = aws.fails("create-notebook", "--work-group", spark_workgroup, "--name", "tok2", "--client-request-token", token)
    assert "InvalidRequestException" in err and "Idempotent parameters do not match" in err, err
