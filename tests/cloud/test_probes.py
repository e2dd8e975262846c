"""The probes answer JSON-serialisable data (what an experiment, a check and the CLI share), and their
pure helpers judge policies, rules and routes right."""

from __future__ import annotations

import json

import pytest

from gauntlet.cloud import acm, cloudfront, ec2, ecr, eks, elbv2, rds, route53, wafv2
from gauntlet.cloud.errors import CloudConfigError
from gauntlet.cloud.session import configuration_for
from gauntlet.environment import Aws
from gauntlet.exceptions import NotChecked


@pytest.fixture
def configuration(account: dict) -> dict:
    return configuration_for(Aws.model_validate(account["ahtest"]["aws"]))


def test_every_probe_answers_json(account, configuration):
    made = account["ahtest"]["resources"]
    db = rds.describe_db_instance("ahtest-db", configuration)
    distribution = cloudfront.get_distribution(None, "ahtest.gauntlet.localhost", configuration)
    lb = elbv2.describe_load_balancer("k8s-ahtest-hub", configuration)
    listeners = elbv2.describe_listeners(lb["LoadBalancerArn"], configuration)
    zone = route53.find_hosted_zone("ahtest.gauntlet.localhost", configuration)
    answers = {
        "db": db,
        "subnets": ec2.describe_subnets([s["SubnetIdentifier"] for s in db["DBSubnetGroup"]["Subnets"]], configuration),
        "groups": ec2.describe_security_groups([g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]], configuration),
        "distribution": distribution,
        "lb": lb,
        "listeners": listeners,
        "listener_certificates": [elbv2.listener_certificates(listener["ListenerArn"], configuration) for listener in listeners],
        "targets": elbv2.describe_target_health(lb["LoadBalancerArn"], configuration),
        "tags": elbv2.describe_tags(lb["LoadBalancerArn"], configuration),
        "certificate": acm.describe_certificate(made["certificates"]["alb"], configuration),
        "cloudfront_acl": wafv2.get_web_acl(distribution["DistributionConfig"]["WebACLId"], configuration),
        "alb_acl": wafv2.web_acl_for_resource(lb["LoadBalancerArn"], configuration),
        "zone": zone,
        "records": route53.record_sets(zone["Id"], "ahtest.gauntlet.localhost", configuration),
        "cluster": eks.describe_cluster("ahtest", configuration),
        "node_group": eks.describe_nodegroup("ahtest", "ahtest-ng", configuration),
        "repository": ecr.describe_repository("hub", configuration),
        "policy": ecr.repository_policy("hub", configuration),
        "tags_of_images": ecr.image_tags("hub", configuration),
    }
    assert json.loads(json.dumps(answers)) == answers
    assert distribution["Id"] == made["distribution"]["id"]
    assert answers["certificate"]["CertificateArn"].startswith("arn:aws:acm:us-east-2:"), "the ALB's certificate is regional"
    assert acm.region_of_arn(distribution["DistributionConfig"]["ViewerCertificate"]["ACMCertificateArn"]) == "us-east-1"
    assert {r["Type"] for r in answers["records"]} >= {"A", "AAAA"}


def test_certificate_arn_must_be_acm():
    with pytest.raises(CloudConfigError, match="expected an ACM certificate ARN"):
        acm.region_of_arn("arn:aws:iam::123456789012:server-certificate/old")


def test_web_acl_arns():
    assert wafv2.parse_arn("arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/1a2b") == {
        "region": "us-east-1", "scope": "CLOUDFRONT", "name": "edge", "id": "1a2b"}
    assert wafv2.parse_arn("arn:aws:wafv2:us-east-2:123456789012:regional/webacl/alb/3c4d")["scope"] == "REGIONAL"
    with pytest.raises(NotChecked, match="WAF Classic"):
        wafv2.parse_arn("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")


@pytest.mark.parametrize(("action", "counted"), [({"Block": {}}, True), ({"Captcha": {}}, True), ({"Count": {}}, False)])
def test_a_rate_rule_that_only_counts_limits_nothing(action, counted):
    acl = {"Rules": [{"Name": "rate", "Action": action, "Statement": {"RateBasedStatement": {"Limit": 100}}},
                     {"Name": "managed", "OverrideAction": {"None": {}}, "Statement": {"ManagedRuleGroupStatement": {}}}]}
    assert bool(wafv2.rate_based_rules(acl)) is counted


@pytest.mark.parametrize(("statement", "public"), [
    ({"Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}, True),
    ({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:*"}, True),
    ({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:BatchGetImage",
      "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}, False),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "ecr:*"}, False),
    ({"Effect": "Deny", "Principal": "*", "Action": "ecr:*"}, False),
])
def test_anonymous_pull(statement, public):
    assert bool(ecr.public_statements({"Version": "2012-10-17", "Statement": [statement]})) is public


@pytest.mark.parametrize(("rule", "open_"), [
    ({"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, True),
    ({"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}, True),
    ({"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, False),
    ({"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": "sg-1"}]}, False),
])
def test_a_database_port_open_to_the_internet(rule, open_):
    assert bool(ec2.open_to_anywhere({"IpPermissions": [rule]}, 5432)) is open_
