"""The environment's aws section: the fields the cloud suite reads, each refused with a clear message when wrong."""

from __future__ import annotations

import pytest

from gauntlet import paths
from gauntlet.cloud.session import configuration_for
from gauntlet.environment import load_environment
from gauntlet.exceptions import ConfigError


def _aws(env_data: dict, **fields) -> dict:
    return {**env_data, "aws": {"region": "us-east-2", **fields}}


def test_the_local_stack_names_its_emulator_and_credentials():
    aws = load_environment("local", paths.ROOT / "environments").aws
    configuration = configuration_for(aws)
    assert configuration["aws_emulator"] == "moto" and configuration["aws_endpoint_url"] == "http://127.0.0.1:5000"
    credentials = configuration["aws_credentials_file"]
    assert credentials.endswith("state/cloud/aws/credentials") and "{cache}" not in credentials
    assert (aws.node_group_size.min, aws.node_group_size.max) == (6, 10)


@pytest.mark.parametrize(("fields", "message"), [
    ({"node_group_size": {"min": 10, "max": 6}}, "aws.node_group_size: min (10) must not exceed max (6)"),
    ({"emulator": "moto"}, "aws: emulator: moto is reached at endpoint_url, which is missing"),
    ({"emulator": "localstack", "endpoint_url": "http://127.0.0.1:4566"}, "aws.emulator: expected 'moto'"),
    ({"max_attempts": 0}, "aws.max_attempts: expected greater than or equal to 1, got 0"),
    ({"separate_from": ["Production!"]}, "aws.separate_from[0]: expected a lower-case name"),
    ({"alb_web_acls": "typo"}, "aws.alb_web_acls: unknown field"),
])
def test_a_wrong_aws_field_names_itself(env_data, write_env, fields, message):
    write_env(_aws(env_data, **fields))
    with pytest.raises(ConfigError) as refused:
        load_environment("sample")
    assert message in str(refused.value)
