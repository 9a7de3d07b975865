"""boto3 / AWS CLI end-to-end suite: starts `glaux serve` and drives it the way users do.

scripts/test builds bin/glaux before pytest runs; when the binary is missing (the suite run on
its own) it is built here with `go build`. Servers bind 127.0.0.1:0 with a private data dir and
are stopped with SIGTERM at the end of the run; teardown then checks that no runner (or JVM) of
theirs is left behind.

Two servers at most: `fake_server` (--fake-spark: sessions are ready at once, fast flows) and
`spark_server` (real PySpark drivers), each started on first use and shared by the whole run.
"""

import json
import os

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.config import Config

from .glaux_e2e import REGION, AwsCli, GlauxServer, build_if_missing, spark_workgroup_config, unique

# One attempt per call: a retry would hide a failing first answer (and repeat non-idempotent
# calls). Any read longer than the timeout is a hang, not a slow machine.
CLIENT_CONFIG = Config(
    region_name=REGION,
    retries={"total_max_attempts": 1, "mode": "standard"},
    connect_timeout=10,
    read_timeout=60,
)


def botocore_protocol():
    """The protocol this environment's botocore speaks to Athena: rest-json or json."""
    return botocore.session.get_session().get_service_model("athena").protocol


def pytest_configure(config):
    config.addinivalue_line("markers", "spark: needs the real-Spark glaux server (a PySpark driver, tens of seconds)")


@pytest.fixture(scope="session")
def glaux_bin():
    return build_if_missing()


@pytest.fixture(scope="session")
def aws_env(tmp_path_factory):
    """test/test credentials and no ~/.aws: empty config and credentials files, for boto3 and the CLI."""
    d = tmp_path_factory.mktemp("aws-config")
    (d / "config").write_text("")
    (d / "credentials").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(d / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(d / "credentials"),
        AWS_MAX_ATTEMPTS="1",
        AWS_RETRY_MODE="standard",
        AWS_EC2_METADATA_DISABLED="true",
    )
    # awscli 1.x vendors its own botocore, whose Athena model lags the boto3 beside it (awscli
    # 1.46 still speaks AWS JSON 1.1 to Athena, botocore 1.44 restJson1). With a restJson1
    # botocore, the CLI gets that botocore's Athena model (AWS_DATA_PATH), so both clients of a
    # run speak one protocol (as a CLI bundling the current model would); the older environment
    # runs the CLI through AWS JSON 1.1.
    if botocore_protocol() == "rest-json":
        model = d / "botocore-data" / "athena" / "2017-05-18" / "service-2.json"
        model.parent.mkdir(parents=True)
        model.write_text(json.dumps(botocore.loaders.Loader().load_service_model("athena", "service-2")))
        env["AWS_DATA_PATH"] = str(d / "botocore-data")
    keys = ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ATHENA")
    saved = {k: os.environ.get(k) for k in keys}
    for k in keys:
        os.environ.pop(k, None)
    os.environ["AWS_CONFIG_FILE"] = env["AWS_CONFIG_FILE"]
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"]
    yield env
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def fake_server(glaux_bin, tmp_path_factory, aws_env):
    """glaux --fake-spark: sessions are IDLE at once and run plain Python without Spark."""
    server = GlauxServer(glaux_bin, tmp_path_factory.mktemp("glaux-fake") / "data", fake_spark=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spark_server(glaux_bin, tmp_path_factory, aws_env):
    """glaux with real PySpark drivers (GLAUX_PYTHON, or this interpreter, as --python)."""
    server = GlauxServer(glaux_bin, tmp_path_factory.mktemp("glaux-spark") / "data", fake_spark=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def make_client(aws_env):
    """make_client(server): a boto3 Athena client for that server (test/test, us-east-1, no retries)."""

    def make(server):
        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
        return session.client("athena", endpoint_url=server.endpoint, config=CLIENT_CONFIG)

    return make


@pytest.fixture(scope="session")
def make_aws(aws_env):
    """make_aws(server): an AWS CLI runner for that server."""
    return lambda server: AwsCli(server, aws_env)


@pytest.fixture(scope="session")
def athena(fake_server, make_client):
    """boto3 client of the fake-Spark server."""
    return make_client(fake_server)


@pytest.fixture(scope="session")
def aws(fake_server, make_aws):
    """AWS CLI runner against the fake-Spark server."""
    return make_aws(fake_server)


@pytest.fixture
def spark_workgroup(athena):
    """A fresh Spark workgroup on the fake server, deleted (with its notebooks) afterwards."""
    name = unique("wg")
    athena.create_work_group(Name=name, Configuration=spark_workgroup_config(), Description="pytest")
    yield name
    try:
        athena.delete_work_group(WorkGroup=name, RecursiveDeleteOption=True)
    except athena.exceptions.InvalidRequestException:
        pass  # the test deleted it already
