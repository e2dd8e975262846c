"""The cloud tier itself: moto on 127.0.0.1:5000 with a pid file, in `local status`, re-provisioned on a
change of faults, and able to serve the database failover experiment's call (as far as moto models it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from gauntlet import paths
from gauntlet.cloud import rds
from gauntlet.cloud.session import configuration_for, process_environment
from gauntlet.exceptions import LocalStackError
from gauntlet.local import cloud_tier

pytestmark = pytest.mark.local_stack


@pytest.fixture(scope="module")
def tier() -> Iterator[dict]:
    """The healthy cloud tier; afterwards, healthy again if it ran before, else stopped."""
    was_running = cloud_tier.running_pid() is not None
    yield cloud_tier.up(progress=lambda _: None)
    if was_running:
        cloud_tier.up(progress=lambda _: None)
    else:
        cloud_tier.down()


def test_status_json_has_the_moto_component(tier):
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "local", "status", "--json"], capture_output=True, text=True,
                          timeout=60, cwd=paths.ROOT)
    status = json.loads(proc.stdout)
    moto = status["components"]["moto"]
    assert moto == {"healthy": True, "address": "127.0.0.1:5000", "pid": tier["moto"]["pid"]}
    assert status["cloud"]["endpoint_url"] == "http://127.0.0.1:5000" and status["cloud"]["faults"] == []
    assert set(status["cloud"]["limits"]) >= {"target-health", "acm-renewal-eligibility", "rds-failover"}


def test_a_change_of_faults_reprovisions_the_same_process(tier):
    before = cloud_tier.status()
    faulted = cloud_tier.up(["db-single-az"], progress=lambda _: None)
    assert faulted["moto"]["pid"] == before["moto"]["pid"], "reset and provisioned again, not restarted"
    assert faulted["faults"] == ["db-single-az"]
    assert faulted["resources"]["distribution"]["id"] != before["resources"]["distribution"]["id"]
    healthy = cloud_tier.up(progress=lambda _: None)
    assert healthy["faults"] == [] and healthy["moto"]["healthy"]


def test_a_goproxy_fault_is_not_the_cloud_tiers(tier):
    with pytest.raises(LocalStackError, match="not a cloud fault profile: replica-500"):
        cloud_tier.up(["replica-500"], progress=lambda _: None)


def test_the_failover_experiments_call_is_served(tier):
    """chaosaws's reboot_db_instance(force_failover=True) runs against the tier through the environment's
    process variables. moto accepts it and changes nothing: the evidence a local run can give stops there."""
    configuration = configuration_for(cloud_tier.local_aws())
    child = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **process_environment(configuration)}
    script = (
        "import boto3, sys\n"
        "from chaosaws.rds.actions import reboot_db_instance\n"
        "assert boto3.client('rds', region_name='us-east-1').meta.endpoint_url == 'http://127.0.0.1:5000', 'not loopback'\n"
        "answer = reboot_db_instance('artifacthub-db', force_failover=True, configuration={'aws_region': 'us-east-1', "
        "'aws_profile_name': 'gauntlet-local'})\n"
        "print(answer['DBInstance']['DBInstanceIdentifier'])\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=child)
    assert proc.returncode == 0 and proc.stdout.strip() == "artifacthub-db", proc.stderr[-2000:]
    after = rds.describe_db_instance("artifacthub-db", configuration)
    assert after["MultiAZ"] is True and after["DBInstanceStatus"] == "available"
    assert after["AvailabilityZone"] == "us-east-1a", "moto promotes no standby: " + rds.MOTO_FAILOVER
