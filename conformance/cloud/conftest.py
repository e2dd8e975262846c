"""Fixtures of the cloud suite: the environment's AWS configuration and the resources it names,
each read once per session through the read-only probes of :mod:`gauntlet.cloud`.

A probe that cannot get an answer raises :class:`~gauntlet.exceptions.NotChecked`; the
plugin's report hook turns that into a skip with the reason (the claim says ``not-checked``),
and any other gauntlet error into a failure with its one-line message, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chaoslib.types import Configuration

from gauntlet.cloud import acm, cloudfront, eks, elbv2, rds, route53, wafv2
from gauntlet.cloud.session import emulator
from gauntlet.environment import Aws, Environment, load_environment
from gauntlet.plugin import environment_of

EDGES = ("cloudfront", "alb")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``rds_instance_id``, ``repository_name``: each the environment names; ``edge``: cloudfront and alb."""
    env = environment_of(metafunc.config)
    aws = env.aws
    wanted = {
        "rds_instance_id": (aws.rds_instances if aws else (), "aws.rds_instances"),
        "repository_name": (aws.ecr_repositories if aws else (), "aws.ecr_repositories"),
        "edge": (EDGES, ""),
    }
    for name, (values, field) in wanted.items():
        if name not in metafunc.fixturenames:
            continue
        if aws is None or not values:
            why = f"environment {env.name} names no AWS account" if aws is None else f"environment {env.name} names none ({field})"
            metafunc.parametrize(name, [pytest.param(None, marks=pytest.mark.skip(reason=why))], ids=["none"])
        else:
            metafunc.parametrize(name, values, ids=list(values), scope="session")


@pytest.fixture(scope="session")
def aws(environment: Environment) -> Aws:
    """The environment's ``aws`` section; skips when it names no AWS account."""
    if environment.aws is None:
        pytest.skip(f"environment {environment.name} names no AWS account")
    return environment.aws


@pytest.fixture(scope="session")
def aws_emulator(aws_configuration: Configuration) -> str | None:
    """``"moto"`` on the local stack's cloud tier, else None."""
    return emulator(aws_configuration)


@pytest.fixture(scope="session")
def separate_environments(aws: Aws, environment: Environment, pytestconfig: pytest.Config) -> list[Environment]:
    """The environments this one must share no database or cluster with (``aws.separate_from``)."""
    if not aws.separate_from:
        pytest.skip(f"environment {environment.name} names no environment to be separate from (aws.separate_from)")
    folder = pytestconfig.getoption("--environments-dir")
    others = [load_environment(name, Path(folder) if folder else None) for name in aws.separate_from]
    for other in others:
        if other.aws is None:
            pytest.fail(f"environment {other.name} (aws.separate_from of {environment.name}): expected an aws section, found none",
                        pytrace=False)
    return others


@pytest.fixture(scope="session")
def db_instance(rds_instance_id: str, aws_configuration: Configuration) -> dict:
    return rds.describe_db_instance(rds_instance_id, aws_configuration)


@pytest.fixture(scope="session")
def distribution(aws: Aws, aws_configuration: Configuration) -> dict:
    """The CloudFront distribution: by id, else the one serving the domain."""
    if not aws.cloudfront_distribution and not aws.domain:
        pytest.skip("the environment names no CloudFront distribution (aws.cloudfront_distribution or aws.domain)")
    return cloudfront.get_distribution(aws.cloudfront_distribution, aws.domain, aws_configuration)


@pytest.fixture(scope="session")
def load_balancer(aws: Aws, aws_configuration: Configuration) -> dict:
    if not aws.load_balancer:
        pytest.skip("the environment names no load balancer (aws.load_balancer)")
    return elbv2.describe_load_balancer(aws.load_balancer, aws_configuration)


@pytest.fixture(scope="session")
def hosted_zone(aws: Aws, aws_configuration: Configuration) -> dict:
    if not aws.hosted_zone:
        pytest.skip("the environment names no Route 53 hosted zone (aws.hosted_zone)")
    return route53.find_hosted_zone(aws.hosted_zone, aws_configuration)


@pytest.fixture(scope="session")
def certificates(edge: str, request: pytest.FixtureRequest, aws_configuration: Configuration) -> list[dict]:
    """The ACM certificates CloudFront or the ALB serves (``edge``), as DescribeCertificate answers them."""
    if edge == "cloudfront":
        viewer = request.getfixturevalue("distribution")["DistributionConfig"].get("ViewerCertificate", {})
        arns = [viewer["ACMCertificateArn"]] if viewer.get("ACMCertificateArn") else []
    else:
        lb = request.getfixturevalue("load_balancer")
        listeners = elbv2.describe_listeners(lb["LoadBalancerArn"], aws_configuration)
        https = [listener for listener in listeners if listener["Protocol"] == "HTTPS"]
        arns = list(dict.fromkeys(arn for listener in https
                                  for arn in elbv2.listener_certificates(listener["ListenerArn"], aws_configuration)))
    return [acm.describe_certificate(arn, aws_configuration) for arn in arns]


@pytest.fixture(scope="session")
def web_acl(edge: str, request: pytest.FixtureRequest, aws_configuration: Configuration) -> dict | None:
    """The WAFv2 web ACL associated with CloudFront (its ``WebACLId``) or with the ALB, or None."""
    if edge == "cloudfront":
        arn = request.getfixturevalue("distribution")["DistributionConfig"].get("WebACLId")
        return wafv2.get_web_acl(arn, aws_configuration) if arn else None
    return wafv2.web_acl_for_resource(request.getfixturevalue("load_balancer")["LoadBalancerArn"], aws_configuration)


@pytest.fixture(scope="session")
def node_group(aws: Aws, aws_configuration: Configuration) -> dict:
    if not aws.eks_cluster or not aws.node_group:
        pytest.skip("the environment names no EKS managed node group (aws.eks_cluster, aws.node_group)")
    return eks.describe_nodegroup(aws.eks_cluster, aws.node_group, aws_configuration)
