"""ACM: the certificates CloudFront and the ALB serve (seed 004, "Certificate Manager")."""

from __future__ import annotations

import datetime as dt

import pytest

from gauntlet.cloud import acm, route53


def _in_use(certificates: list[dict], edge: str) -> list[dict]:
    assert certificates, f"{edge}: expected an ACM certificate in use, found none (no ACM certificate configured)"
    return certificates


@pytest.mark.check("aws.acm.certificate-is-the-environments")
def test_certificate_in_use_is_the_environments(certificates, edge, aws):
    """The certificate in use is the one the environment names (aws.certificate_arn, aws.alb_certificate_arn)."""
    expected = aws.certificate_arn if edge == "cloudfront" else aws.alb_certificate_arn
    arns = [c["CertificateArn"] for c in _in_use(certificates, edge)]
    if expected:
        assert expected in arns, f"{edge}: certificate in use: expected {expected}, found {arns}"


@pytest.mark.check("aws.acm.issued")
def test_certificate_is_issued(certificates, edge):
    """"Certificates are configured to be renewed automatically\": first of all, the one in use is ISSUED."""
    bad = {c["CertificateArn"]: c.get("Status") for c in _in_use(certificates, edge) if c.get("Status") != "ISSUED"}
    assert not bad, f"{edge}: certificate Status: expected ISSUED, found {bad}"


@pytest.mark.check("aws.acm.far-from-expiry")
def test_certificate_is_far_from_expiry(certificates, edge, environment):
    """The certificate in use expires no sooner than the environment's threshold (tls.min_days_to_expiry)."""
    threshold = environment.tls.min_days_to_expiry if environment.tls else 14
    now = dt.datetime.now(dt.UTC)
    soon = {}
    for cert in _in_use(certificates, edge):
        days = (dt.datetime.fromisoformat(cert["NotAfter"]) - now).days
        if days < threshold:
            soon[cert["CertificateArn"]] = f"{days} days (NotAfter {cert['NotAfter']})"
    assert not soon, f"{edge}: days to expiry: expected at least {threshold}, found {soon}"


@pytest.mark.check("aws.acm.renewable")
def test_certificate_is_renewable_by_acm(certificates, edge, aws, aws_configuration):
    """ACM renews only what it issued (Type AMAZON_ISSUED) and, with DNS validation, only while the validation
    CNAME stays in the zone."""
    for cert in _in_use(certificates, edge):
        arn = cert["CertificateArn"]
        assert cert.get("Type") == "AMAZON_ISSUED", (
            f"{edge}: certificate {arn} ({cert.get('DomainName')}): Type: expected AMAZON_ISSUED (ACM renews only the "
            f"certificates it issued), found {cert.get('Type')}")
        methods = {o.get("ValidationMethod") for o in cert.get("DomainValidationOptions") or []}
        assert methods == {"DNS"}, (
            f"{edge}: certificate {arn}: ValidationMethod: expected DNS (renewed without anyone answering an email), "
            f"found {sorted(map(str, methods))}")
        if not aws.hosted_zone:
            continue
        zone = route53.find_hosted_zone(aws.hosted_zone, aws_configuration)
        for option in cert.get("DomainValidationOptions") or []:
            record = option.get("ResourceRecord") or {}
            if not record or not route53.fqdn(record["Name"]).endswith(route53.fqdn(zone["Name"])):
                continue
            values = [v["Value"] for r in route53.record_sets(zone["Id"], record["Name"], aws_configuration)
                      if r["Type"] == "CNAME" for v in r.get("ResourceRecords", [])]
            assert route53.fqdn(record["Value"]) in map(route53.fqdn, values), (
                f"{edge}: certificate {arn}: DNS validation record {record['Name']} in zone {zone['Name']}: expected CNAME "
                f"{record['Value']}, found {values or 'no record'}")


@pytest.mark.check("aws.acm.eligible-for-renewal")
def test_certificate_is_eligible_for_renewal(certificates, edge, aws_emulator):
    """ACM itself says it will renew the certificate: RenewalEligibility ELIGIBLE."""
    in_use = _in_use(certificates, edge)
    if aws_emulator == "moto":
        pytest.skip(acm.MOTO_RENEWAL_ELIGIBILITY)
    bad = {c["CertificateArn"]: c.get("RenewalEligibility") for c in in_use if c.get("RenewalEligibility") != "ELIGIBLE"}
    assert not bad, f"{edge}: RenewalEligibility: expected ELIGIBLE, found {bad}"
