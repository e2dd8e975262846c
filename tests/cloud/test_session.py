"""The client factory: read-only, loopback-only when told, and every failure a clear verdict.

All against moto servers on loopback (or nothing at all): no test here can reach AWS.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from gauntlet.cloud import rds
from gauntlet.cloud.errors import ReadOnlyViolation
from gauntlet.cloud.session import CALL_LOG_ENV, call, client, configuration_for
from gauntlet.environment import Aws
from gauntlet.exceptions import NotChecked, ResourceMissing


@pytest.fixture
def configuration(account: dict) -> dict:
    return configuration_for(Aws.model_validate(account["ahtest"]["aws"]))


def test_a_write_is_refused_before_it_is_sent(configuration):
    rds_client = client("rds", configuration)
    with pytest.raises(ReadOnlyViolation, match="rds:DeleteDBInstance: refused before sending"):
        call(rds_client, "delete_db_instance", DBInstanceIdentifier="ahtest-db", SkipFinalSnapshot=True)
    with pytest.raises(ReadOnlyViolation):  # the guard is on the client itself, not only on call()
        rds_client.modify_db_instance(DBInstanceIdentifier="ahtest-db", MultiAZ=False)
    db = rds.describe_db_instance("ahtest-db", configuration)
    assert db["MultiAZ"] is True and db["DBInstanceStatus"] == "available"


def test_every_operation_asked_for_is_logged(configuration, tmp_path, monkeypatch):
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv(CALL_LOG_ENV, str(log))
    rds.describe_db_instance("ahtest-db", configuration)
    with pytest.raises(ReadOnlyViolation):
        call(client("rds", configuration), "delete_db_instance", DBInstanceIdentifier="ahtest-db")
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls == [{"service": "rds", "operation": "DescribeDBInstances", "region": "us-east-2"},
                     {"service": "rds", "operation": "DeleteDBInstance", "region": "us-east-2"}]


def test_a_loopback_only_client_never_leaves_loopback():
    """No endpoint_url means AWS itself; with $GAUNTLET_AWS_LOOPBACK_ONLY (set for every test) the request is
    refused before a byte leaves the machine, even with credentials at hand."""
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    with pytest.raises(ReadOnlyViolation, match="refused to send POST rds.us-east-2.amazonaws.com"):
        rds.describe_db_instance("ahtest-db", {"aws_region": "us-east-2", "aws_max_attempts": 1}, keys)


def test_no_credentials_is_not_checked(account):
    aws = dict(account["ahtest"]["aws"])
    del aws["profile"], aws["credentials_file"]
    with pytest.raises(NotChecked, match=r"rds:DescribeDBInstances RDS instance 'ahtest-db' in us-east-2: no AWS credentials"):
        rds.describe_db_instance("ahtest-db", configuration_for(Aws.model_validate(aws)))


def test_an_unknown_profile_is_not_checked(account):
    aws = {**account["ahtest"]["aws"], "profile": "nobody"}
    with pytest.raises(NotChecked, match="AWS profile 'nobody' is not configured here"):
        rds.describe_db_instance("ahtest-db", configuration_for(Aws.model_validate(aws)))


def test_a_missing_credentials_file_names_the_cloud_tier(account, tmp_path):
    aws = {**account["ahtest"]["aws"], "credentials_file": str(tmp_path / "absent")}
    with pytest.raises(NotChecked, match="does not exist .*gauntlet local up --cloud"):
        rds.describe_db_instance("ahtest-db", configuration_for(Aws.model_validate(aws)))


def test_a_wrong_region_is_a_missing_resource_naming_the_region(account):
    aws = {**account["ahtest"]["aws"], "region": "eu-west-3"}
    with pytest.raises(ResourceMissing, match=r"RDS instance 'ahtest-db' in eu-west-3: not found \(DBInstanceNotFound"):
        rds.describe_db_instance("ahtest-db", configuration_for(Aws.model_validate(aws)))


def test_access_denied_is_not_checked_and_names_the_permission(configuration, iam_enforced):
    keys = iam_enforced([{"Effect": "Allow", "Action": "*", "Resource": "*"},
                         {"Effect": "Deny", "Action": "rds:Describe*", "Resource": "*"}])
    without_profile = {k: v for k, v in configuration.items() if k not in ("aws_profile_name", "aws_credentials_file")}
    with pytest.raises(NotChecked, match="access denied .*grant the read-only permission rds:DescribeDBInstances"):
        rds.describe_db_instance("ahtest-db", without_profile, keys)


def test_rejected_credentials_are_not_checked(configuration, iam_enforced):
    iam_enforced([])  # enforcement on: the test profile's keys belong to no IAM user
    with pytest.raises(NotChecked, match=r"credentials were rejected \(InvalidClientTokenId"):
        rds.describe_db_instance("ahtest-db", configuration)


def test_throttling_is_retried_with_backoff(configuration, throttling):
    front = throttling(2)
    db = rds.describe_db_instance("ahtest-db", {**configuration, "aws_endpoint_url": front["url"], "aws_max_attempts": 3})
    assert db["DBInstanceIdentifier"] == "ahtest-db"
    assert front["state"]["requests"] == 3, "two throttled attempts, then the answer"


def test_throttling_that_persists_is_not_checked(configuration, throttling):
    front = throttling(1000)
    with pytest.raises(NotChecked, match=r"throttled \(Throttling: Rate exceeded\) on all 3 attempts, with exponential backoff"):
        rds.describe_db_instance("ahtest-db", {**configuration, "aws_endpoint_url": front["url"], "aws_max_attempts": 3})
    assert front["state"]["requests"] == 3


def test_an_unreachable_api_is_not_checked_and_not_asked_again(configuration):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once closed
    nowhere = {**configuration, "aws_endpoint_url": f"http://127.0.0.1:{port}", "aws_max_attempts": 1}
    with pytest.raises(NotChecked, match="cannot reach the AWS API at http://127.0.0.1"):
        rds.describe_db_instance("ahtest-db", nowhere)
    started = time.monotonic()
    with pytest.raises(NotChecked, match="not asked: the AWS API at .* could not be reached earlier"):
        rds.describe_db_instance("ahtest-db", nowhere)
    assert time.monotonic() - started < 0.5


def test_no_probe_or_check_makes_a_client_of_its_own():
    """The read-only guard and the call log live on the factory's clients: nothing else may make one."""
    from gauntlet import paths

    sources = [*(paths.ROOT / "gauntlet" / "cloud").glob("*.py"), *(paths.ROOT / "conformance" / "cloud").glob("*.py")]
    own = [f"{p.relative_to(paths.ROOT)}: {line.strip()}" for p in sources if p.name != "session.py"
           for line in p.read_text().splitlines() if any(s in line for s in ("boto3.", "botocore.session", "import boto3"))]
    assert len(sources) > 15 and not own, own
