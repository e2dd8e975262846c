"""CloudFront: the distribution in front of the hub (seed 004, "CloudFront")."""

from __future__ import annotations

import fnmatch

import pytest

from gauntlet.cloud import cloudfront, route53

HTTPS_ONLY = ("redirect-to-https", "https-only")
TLS_1_2_OR_NEWER = ("TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.3_2025")


def _name(distribution: dict) -> str:
    return f"CloudFront distribution {distribution['Id']} ({distribution.get('DomainName')})"


def _same_host(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()


@pytest.mark.check("aws.cloudfront.origin-is-the-alb")
def test_main_origin_is_the_alb(distribution, load_balancer, aws, aws_configuration):
    """"The main origin for each distribution is a load balancer that points to a pool of hub instances\":
    the default behaviour's origin is the ALB (by its DNS name, or a Route 53 name aliasing it)."""
    target = distribution["DistributionConfig"]["DefaultCacheBehavior"]["TargetOriginId"]
    main = cloudfront.origin(distribution, target) or {}
    domain, alb = main.get("DomainName", ""), load_balancer["DNSName"]
    if not _same_host(domain, alb) and aws.hosted_zone and domain.rstrip(".").endswith(aws.hosted_zone.rstrip(".")):
        zone = route53.find_hosted_zone(aws.hosted_zone, aws_configuration)
        pointed = [r.get("AliasTarget", {}).get("DNSName", "") or (r.get("ResourceRecords") or [{}])[0].get("Value", "")
                   for r in route53.record_sets(zone["Id"], domain, aws_configuration)]
        if any(_same_host(p.removeprefix("dualstack."), alb) for p in pointed):
            return
    assert _same_host(domain, alb), (
        f"{_name(distribution)}: default behaviour -> origin {target!r}: DomainName: expected the ALB "
        f"{load_balancer['LoadBalancerName']} ({alb}), found {domain!r}")


@pytest.mark.check("aws.cloudfront.maintenance-page-from-s3")
def test_maintenance_page_comes_from_the_s3_origin(distribution):
    """"Another S3 based origin hosts the static assets for the maintenance page\": 502, 503 and 504 answer a
    page whose path the behaviours route to the S3 origin."""
    config = distribution["DistributionConfig"]
    s3_origins = {o["Id"] for o in config["Origins"].get("Items") or [] if cloudfront.is_s3_origin(o)}
    assert s3_origins, f"{_name(distribution)}: Origins: expected an S3 origin for the maintenance page, found none"
    pages = {e["ErrorCode"]: e.get("ResponsePagePath") for e in config.get("CustomErrorResponses", {}).get("Items") or []}
    missing = [code for code in (502, 503, 504) if not pages.get(code)]
    assert not missing, (
        f"{_name(distribution)}: CustomErrorResponses: expected a maintenance page for {missing}, found {pages or 'none'}")
    ordered = [*(config.get("CacheBehaviors", {}).get("Items") or []), {**config["DefaultCacheBehavior"], "PathPattern": "*"}]
    for code, path in sorted(pages.items()):
        if code not in (502, 503, 504):
            continue
        serving = next(b for b in ordered if fnmatch.fnmatchcase(path, b["PathPattern"]))
        assert serving["TargetOriginId"] in s3_origins, (
            f"{_name(distribution)}: error {code} -> {path}: expected the S3 origin {sorted(s3_origins)} to serve it, found "
            f"behaviour {serving['PathPattern']!r} -> {serving['TargetOriginId']!r} (the failing origin itself)")


@pytest.mark.check("aws.cloudfront.redirects-to-https")
def test_viewers_are_redirected_to_https(distribution):
    """Plain HTTP is redirected to HTTPS: every behaviour's ViewerProtocolPolicy is redirect-to-https (or https-only)."""
    plain = {b["PathPattern"]: b["ViewerProtocolPolicy"] for b in cloudfront.behaviours(distribution)
             if b["ViewerProtocolPolicy"] not in HTTPS_ONLY}
    assert not plain, f"{_name(distribution)}: ViewerProtocolPolicy: expected redirect-to-https, found {plain}"


@pytest.mark.check("aws.cloudfront.acm-certificate")
def test_viewer_certificate_is_from_acm(distribution, aws):
    """"the SSL/TLS certificates used by other services like CloudFront [...] are provisioned and managed by the
    Certificate Manager\": an ACM certificate (the environment's, if it names one), SNI, TLS 1.2 or newer."""
    viewer = distribution["DistributionConfig"].get("ViewerCertificate", {})
    arn = viewer.get("ACMCertificateArn") or ""
    assert arn, (f"{_name(distribution)}: ViewerCertificate: expected an ACM certificate, found "
                 f"{'the default *.cloudfront.net certificate' if viewer.get('CloudFrontDefaultCertificate') else viewer}")
    if aws.certificate_arn:
        assert arn == aws.certificate_arn, (
            f"{_name(distribution)}: ViewerCertificate.ACMCertificateArn: expected {aws.certificate_arn} (aws.certificate_arn), "
            f"found {arn}")
    version = viewer.get("MinimumProtocolVersion")
    assert version in TLS_1_2_OR_NEWER, (
        f"{_name(distribution)}: ViewerCertificate.MinimumProtocolVersion: expected TLSv1.2_2021 or newer, found {version!r}")


@pytest.mark.check("aws.cloudfront.honours-origin-cache-headers")
def test_behaviours_honour_the_origin_cache_headers(distribution, aws_configuration):
    """"which caches accordingly to the origin cache headers\": no behaviour forces a minimum TTL (MinTTL 0), so
    the origin's Cache-Control: no-store or max-age=0 is obeyed."""
    forced = {}
    for behaviour in cloudfront.behaviours(distribution):
        policy_id = behaviour.get("CachePolicyId")
        if policy_id:
            minimum = cloudfront.get_cache_policy(policy_id, aws_configuration).get("MinTTL", 0)
        else:
            minimum = behaviour.get("MinTTL", 0)
        if minimum:
            forced[behaviour["PathPattern"]] = minimum
    assert not forced, f"{_name(distribution)}: MinTTL: expected 0 (the origin's Cache-Control decides), found {forced}"


@pytest.mark.check("aws.cloudfront.special-path-behaviours")
def test_special_paths_have_their_own_behaviours(distribution):
    """"There is a set of behaviors to define more explicitly how some special paths [...] should be handled.\""""
    paths = [b["PathPattern"] for b in cloudfront.behaviours(distribution)[1:]]
    assert paths, f"{_name(distribution)}: CacheBehaviors: expected behaviours for special paths, found only the default"


@pytest.mark.check("aws.cloudfront.error-caching-bounded")
def test_errors_are_not_cached_longer_than_allowed(distribution, environment):
    """"[...] and errors should be handled\": custom error responses exist and none caches an error longer than
    the environment's error TTL (cdn.error_max_ttl)."""
    allowed = environment.cdn.error_max_ttl if environment.cdn else 60
    errors = distribution["DistributionConfig"].get("CustomErrorResponses", {}).get("Items") or []
    assert errors, f"{_name(distribution)}: CustomErrorResponses: expected error handling, found none"
    long = {e["ErrorCode"]: e.get("ErrorCachingMinTTL") for e in errors if (e.get("ErrorCachingMinTTL") or 0) > allowed}
    assert not long, f"{_name(distribution)}: ErrorCachingMinTTL: expected at most {allowed} s, found {long}"
