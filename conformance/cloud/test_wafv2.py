"""WAF: web ACLs with a rate limit on CloudFront and on the ALB (seed 004, "Firewall Manager")."""

from __future__ import annotations

import pytest

from gauntlet.cloud import wafv2


def _where(edge: str, request: pytest.FixtureRequest) -> str:
    if edge == "cloudfront":
        return f"CloudFront distribution {request.getfixturevalue('distribution')['Id']}"
    return f"ALB {request.getfixturevalue('load_balancer')['LoadBalancerName']}"


@pytest.mark.check("aws.wafv2.acl-associated")
def test_web_acl_is_associated(web_acl, edge, aws, request):
    """"both CloudFront and the load balancer have associated a set of web ACLs rules\": each has a web ACL
    (the one the environment names, aws.web_acl / aws.alb_web_acl)."""
    expected = aws.web_acl if edge == "cloudfront" else aws.alb_web_acl
    assert web_acl is not None, f"{_where(edge, request)}: web ACL: expected {expected or 'one'}, found none associated"
    if expected:
        assert web_acl["Name"] == expected, f"{_where(edge, request)}: web ACL: expected {expected}, found {web_acl['Name']}"


@pytest.mark.check("aws.wafv2.rate-based-rule")
def test_web_acl_rate_limits(web_acl, edge, request):
    """"[...] web ACLs rules to rate limit and block certain traffic patterns\": a rate-based rule that blocks
    (not merely counts) above its limit."""
    assert web_acl is not None, f"{_where(edge, request)}: web ACL: expected one with a rate-based rule, found none associated"
    rules = wafv2.rate_based_rules(web_acl)
    found = [f"{r['Name']} ({next(iter(r.get('Statement', {})), '?')}, {next(iter(r.get('Action') or r.get('OverrideAction') or {}), '?')})"
             for r in web_acl.get("Rules", [])]
    assert rules, (f"{_where(edge, request)}: web ACL {web_acl['Name']}: Rules: expected a RateBasedStatement rule that blocks, "
                   f"found {found or 'no rules'}")
