"""conformance/cloud end to end, in a child process as the CLI runs it, against moto on loopback:
green on a healthy account, red on each misconfiguration the local stack has no fault profile for,
and a clear verdict, never a traceback, without credentials, in a wrong region, denied or throttled.
Every AWS call the suite makes is recorded: each one reads."""

from __future__ import annotations

import json

import pytest

from gauntlet.cloud.session import READ_ONLY_PREFIXES

pytestmark = pytest.mark.slow

CLAIMS_OF_THE_SUITE = (
    "ah-rds-multi-az", "ah-rds-postgresql", "ah-rds-private", "ah-certs-auto-renew", "ah-edge-tls",
    "ah-cloudfront-origin-alb", "ah-cloudfront-honours-origin-headers", "ah-cloudfront-errors-handled",
    "ah-maintenance-page", "ah-alb-targets-healthy", "ah-alb-from-ingress", "ah-waf-rate-limits",
    "ah-route53-alias-cloudfront", "ah-ecr-private", "ah-images-from-ecr", "ah-node-group-6-10",
    "ah-staging-production-separate",
)


def verdict(results: dict, claim_id: str) -> dict:
    return next(c for c in results["claims"] if c["id"] == claim_id)


def failed(results: dict) -> set[str]:
    return {c["id"].removeprefix("conformance/cloud/") for c in results["checks"] if c["outcome"] in ("failed", "error")}


@pytest.fixture
def healthy(account, cloud_env, write_env) -> None:
    for name in ("ahtest", "ahstage"):
        write_env(cloud_env(name, account[name]["aws"]))


def test_healthy_account_verifies_every_claim_reading_only(healthy, run_suite):
    results = run_suite("ahtest")
    assert not failed(results), results["output"][-3000:]
    for claim_id in CLAIMS_OF_THE_SUITE:
        assert verdict(results, claim_id)["verdict"] == "verified", verdict(results, claim_id)["evidence"]
    cosmos = verdict(results, "athens-cosmos-multi-region")
    assert cosmos["verdict"] == "not-checked" and "names no Cosmos DB account" in cosmos["evidence"][0]
    # what moto cannot model is said, next to the verdict
    assert "moto runs no health checks" in " ".join(verdict(results, "ah-alb-targets-healthy")["evidence"])
    assert "RenewalEligibility INELIGIBLE for every certificate" in " ".join(verdict(results, "ah-certs-auto-renew")["evidence"])
    calls = results["calls"]
    assert {c["service"] for c in calls} >= {"rds", "ec2", "cloudfront", "elbv2", "acm", "wafv2", "route53", "eks", "ecr"}
    writes = sorted({c["operation"] for c in calls if not c["operation"].startswith(READ_ONLY_PREFIXES)})
    assert not writes, f"the suite asked for operations that are not reads: {writes}"


def test_without_credentials_every_claim_is_not_checked(account, cloud_env, write_env, run_suite):
    aws = {k: v for k, v in account["ahtest"]["aws"].items() if k not in ("profile", "credentials_file", "separate_from")}
    write_env(cloud_env("ahnocreds", aws))
    results = run_suite("ahnocreds")
    for claim_id in CLAIMS_OF_THE_SUITE:
        claim = verdict(results, claim_id)
        assert claim["verdict"] == "not-checked", claim
    assert "no AWS credentials" in " ".join(verdict(results, "ah-rds-multi-az")["evidence"])
    assert not results["calls"] or all(c["operation"].startswith(READ_ONLY_PREFIXES) for c in results["calls"])


def test_a_wrong_region_violates_with_the_region_named(account, cloud_env, write_env, run_suite):
    aws = {**account["ahtest"]["aws"], "region": "eu-west-3", "separate_from": []}
    write_env(cloud_env("ahregion", aws))
    results = run_suite("ahregion", "--claims", "ah-rds-multi-az,ah-alb-targets-healthy,ah-route53-alias-cloudfront")
    for claim_id in ("ah-rds-multi-az", "ah-alb-targets-healthy"):
        claim = verdict(results, claim_id)
        assert claim["verdict"] == "violated", claim
        assert "in eu-west-3: not found" in claim["evidence"][0] and "region" in claim["evidence"][0], claim["evidence"]
    assert verdict(results, "ah-route53-alias-cloudfront")["verdict"] == "verified", "Route 53 and CloudFront are global"


def test_access_denied_is_not_checked_naming_the_permission(account, cloud_env, write_env, run_suite, iam_enforced, tmp_path):
    keys = iam_enforced([{"Effect": "Allow", "Action": "*", "Resource": "*"},
                         {"Effect": "Deny", "Action": "rds:Describe*", "Resource": "*"}])
    credentials = tmp_path / "auditor"
    credentials.write_text(f"[auditor]\naws_access_key_id = {keys['aws_access_key_id']}\n"
                           f"aws_secret_access_key = {keys['aws_secret_access_key']}\n")
    aws = {**account["ahtest"]["aws"], "profile": "auditor", "credentials_file": str(credentials), "separate_from": []}
    write_env(cloud_env("ahdenied", aws))
    # moto's IAM enforcement mis-signs CloudFront, Route 53 and EKS calls: the claims below avoid them
    results = run_suite("ahdenied", "--claims", "ah-rds-multi-az,ah-rds-postgresql,ah-alb-targets-healthy,ah-ecr-private")
    for claim_id in ("ah-rds-multi-az", "ah-rds-postgresql"):
        claim = verdict(results, claim_id)
        assert claim["verdict"] == "not-checked", claim
        assert "access denied" in claim["evidence"][0] and "rds:DescribeDBInstances" in claim["evidence"][0], claim["evidence"]
    for claim_id in ("ah-alb-targets-healthy", "ah-ecr-private"):
        assert verdict(results, claim_id)["verdict"] == "verified", verdict(results, claim_id)


def test_throttling_is_retried_then_not_checked(account, cloud_env, write_env, run_suite, throttling):
    front = throttling(10_000)
    aws = {**account["ahtest"]["aws"], "endpoint_url": front["url"], "max_attempts": 2, "separate_from": []}
    write_env(cloud_env("ahthrottled", aws))
    results = run_suite("ahthrottled", "--claims", "ah-rds-multi-az,ah-ecr-private")
    for claim_id in ("ah-rds-multi-az", "ah-ecr-private"):
        claim = verdict(results, claim_id)
        assert claim["verdict"] == "not-checked", claim
        assert "throttled" in claim["evidence"][0] and "on all 2 attempts" in claim["evidence"][0], claim["evidence"]
    assert front["state"]["requests"] == 2 * len(results["calls"]), "every call was tried twice, then given up"


def _break_distribution(admin) -> None:
    cloudfront = admin("cloudfront", "us-east-1")
    distribution = cloudfront.list_distributions()["DistributionList"]["Items"][0]
    current = cloudfront.get_distribution_config(Id=distribution["Id"])
    config = current["DistributionConfig"]
    config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = "allow-all"
    config["Origins"]["Items"][0]["DomainName"] = "hub-origin.example.internal"
    config["CacheBehaviors"]["Items"][0]["MinTTL"] = 86400
    for error in config["CustomErrorResponses"]["Items"]:
        error["ErrorCachingMinTTL"] = 300
        error["ResponsePagePath"] = "/errors/5xx.html"
    config["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1"}
    config["WebACLId"] = ""
    cloudfront.update_distribution(Id=distribution["Id"], IfMatch=current["ETag"], DistributionConfig=config)


def test_misconfigurations_fail_exactly_their_checks(scratch_account, admin, cloud_env, write_env, run_suite):
    """The checks the local stack's fault profiles do not reach, each shown failing on its misconfiguration."""
    made = scratch_account["resources"]
    _break_distribution(admin)
    route53 = admin("route53", "us-east-1")
    record = {"Name": "ahscratch.gauntlet.localhost", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.10"}]}
    route53.change_resource_record_sets(HostedZoneId=made["hosted_zone"],
                                        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]})
    elbv2 = admin("elbv2")
    elbv2.remove_tags(ResourceArns=[made["load_balancer"]["arn"]], TagKeys=["ingress.k8s.aws/stack"])
    admin("wafv2").disassociate_web_acl(ResourceArn=made["load_balancer"]["arn"])
    ecr = admin("ecr")
    ecr.set_repository_policy(repositoryName="hub", policyText=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "public", "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}))
    ecr.create_repository(repositoryName="nightly")
    ecr.put_image(repositoryName="nightly", imageTag="latest", imageManifest=json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "layers": [],
         "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:" + "b" * 64}}))
    ec2, rds = admin("ec2"), admin("rds")
    open_sg = ec2.create_security_group(GroupName="db-open", Description="open", VpcId=made["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=open_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    rds.create_db_subnet_group(DBSubnetGroupName="public", DBSubnetGroupDescription="public", SubnetIds=made["public_subnets"])
    rds.create_db_instance(DBInstanceIdentifier="ahscratch-bad", Engine="mysql", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                           MasterUsername="root", MasterUserPassword="not-a-secret-1", MultiAZ=False, StorageEncrypted=False,
                           BackupRetentionPeriod=0, DeletionProtection=False, PubliclyAccessible=True,
                           DBSubnetGroupName="public", VpcSecurityGroupIds=[open_sg])
    aws = {**scratch_account["aws"], "rds_instances": ["ahscratch-db", "ahscratch-bad"], "ecr_repositories": ["hub", "nightly"],
           "node_group_size": {"min": 3, "max": 5}, "separate_from": ["ahscratch-twin"]}
    write_env(cloud_env("ahscratch", aws))
    write_env(cloud_env("ahscratch-twin", {**scratch_account["aws"], "separate_from": ["ahscratch"]}))

    results = run_suite("ahscratch")

    bad_db = [f"test_rds.py::{name}[ahscratch-bad]" for name in (
        "test_instance_is_multi_az", "test_engine_is_postgresql", "test_storage_is_encrypted", "test_automated_backups_are_retained",
        "test_deletion_protection_is_on", "test_instance_is_not_publicly_accessible",
        "test_subnet_group_lists_private_subnets_only", "test_security_groups_admit_no_one_from_the_internet")]
    no_acm = [f"test_acm.py::{name}[cloudfront]" for name in (
        "test_certificate_in_use_is_the_environments", "test_certificate_is_issued", "test_certificate_is_far_from_expiry",
        "test_certificate_is_renewable_by_acm", "test_certificate_is_eligible_for_renewal")]
    expected = {
        *bad_db, *no_acm,
        "test_rds.py::test_each_environment_has_its_own_instance[ahscratch-db]",
        "test_eks.py::test_each_environment_has_its_own_cluster",
        "test_eks.py::test_node_group_scales_within_the_stated_bounds",
        "test_cloudfront.py::test_viewers_are_redirected_to_https",
        "test_cloudfront.py::test_viewer_certificate_is_from_acm",
        "test_cloudfront.py::test_main_origin_is_the_alb",
        "test_cloudfront.py::test_behaviours_honour_the_origin_cache_headers",
        "test_cloudfront.py::test_errors_are_not_cached_longer_than_allowed",
        "test_cloudfront.py::test_maintenance_page_comes_from_the_s3_origin",
        "test_route53.py::test_a_record_aliases_the_distribution",
        "test_elbv2.py::test_alb_is_managed_by_the_load_balancer_controller",
        "test_wafv2.py::test_web_acl_is_associated[cloudfront]", "test_wafv2.py::test_web_acl_rate_limits[cloudfront]",
        "test_wafv2.py::test_web_acl_is_associated[alb]", "test_wafv2.py::test_web_acl_rate_limits[alb]",
        "test_ecr.py::test_repository_is_private[hub]",
        "test_ecr.py::test_repository_holds_images_of_master_commits[nightly]",
    }
    assert failed(results) == expected, results["output"][-4000:]
    messages = {c["id"].removeprefix("conformance/cloud/"): c["message"] for c in results["checks"]}
    for check, words in {
        "test_rds.py::test_storage_is_encrypted[ahscratch-bad]": ("ahscratch-bad", "StorageEncrypted", "expected true", "found False"),
        "test_rds.py::test_security_groups_admit_no_one_from_the_internet[ahscratch-bad]": ("port 3306", "0.0.0.0/0", open_sg),
        "test_cloudfront.py::test_viewers_are_redirected_to_https": ("ViewerProtocolPolicy", "redirect-to-https", "allow-all"),
        "test_cloudfront.py::test_main_origin_is_the_alb": ("DomainName", "k8s-ahscratch-hub", "hub-origin.example.internal"),
        "test_route53.py::test_a_record_aliases_the_distribution": ("A ahscratch.gauntlet.localhost.", "192.0.2.10"),
        "test_eks.py::test_node_group_scales_within_the_stated_bounds": ("ahscratch-ng", "expected 3..5", "found 6..10"),
        "test_ecr.py::test_repository_is_private[hub]": ("hub", "anonymous pull", "'Principal': '*'"),
        "test_wafv2.py::test_web_acl_is_associated[alb]": ("ALB k8s-ahscratch-hub", "ahscratch-alb-rate-limit", "found none"),
    }.items():
        assert all(w in messages[check] for w in words), (check, messages[check])
    assert all(c["operation"].startswith(READ_ONLY_PREFIXES) for c in results["calls"])
