"""Route 53: the domain's records (seed 004, "Route 53")."""

from __future__ import annotations

import pytest

from gauntlet.cloud import cloudfront, route53


@pytest.mark.check("aws.route53.alias-to-the-distribution")
def test_a_record_aliases_the_distribution(hosted_zone, distribution, aws, aws_configuration):
    """"The most important entry is the A record for [the domain], which points to the domain name of a
    CloudFront distribution.\""""
    name = route53.fqdn(aws.domain or hosted_zone["Name"])
    records = [r for r in route53.record_sets(hosted_zone["Id"], name, aws_configuration) if r["Type"] == "A"]
    where = f"Route 53 zone {hosted_zone['Name']} ({hosted_zone['Id']}): A {name}"
    assert records, f"{where}: expected an alias to {distribution['DomainName']}, found no A record"
    alias = records[0].get("AliasTarget")
    assert alias, f"{where}: expected an alias to {distribution['DomainName']}, found plain addresses {records[0].get('ResourceRecords')}"
    assert route53.fqdn(alias["DNSName"]) == route53.fqdn(distribution["DomainName"]), (
        f"{where}: AliasTarget.DNSName: expected {route53.fqdn(distribution['DomainName'])} (distribution {distribution['Id']}), "
        f"found {alias['DNSName']}")
    assert alias.get("HostedZoneId") == cloudfront.HOSTED_ZONE_ID, (
        f"{where}: AliasTarget.HostedZoneId: expected {cloudfront.HOSTED_ZONE_ID} (CloudFront), found {alias.get('HostedZoneId')}")
