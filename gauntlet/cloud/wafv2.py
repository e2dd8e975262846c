"""WAFv2 probes: the web ACL of a resource and its rules."""

from __future__ import annotations

import re

from chaoslib.types import Configuration, Secrets

from gauntlet.cloud.errors import CloudConfigError
from gauntlet.cloud.session import GLOBAL_REGION, call, client, jsonable
from gauntlet.exceptions import NotChecked

_ARN = re.compile(r"^arn:aws[a-z-]*:wafv2:([a-z0-9-]+):\d{12}:(global|regional)/webacl/([^/]+)/([^/]+)$")
_REGION = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:([a-z0-9-]+):")


def parse_arn(web_acl_arn: str) -> dict:
    """Region, scope, name and id of a WAFv2 web ACL ARN."""
    match = _ARN.match(web_acl_arn)
    if not match:
        if re.match(r"^[0-9a-f-]{36}$", web_acl_arn):
            raise NotChecked(f"web ACL {web_acl_arn}: a WAF Classic web ACL id; gauntlet reads WAFv2 web ACLs only")
        raise CloudConfigError(f"{web_acl_arn!r}: expected a WAFv2 web ACL ARN "
                               "(arn:aws:wafv2:<region>:<account>:<global|regional>/webacl/<name>/<id>)")
    region, scope, name, acl_id = match.groups()
    return {"region": GLOBAL_REGION if scope == "global" else region,
            "scope": "CLOUDFRONT" if scope == "global" else "REGIONAL", "name": name, "id": acl_id}


def get_web_acl(web_acl_arn: str, configuration: Configuration | None = None,
                secrets: Secrets | None = None) -> dict:
    """``GetWebACL`` of an ARN (a CloudFront distribution's ``WebACLId``)."""
    parts = parse_arn(web_acl_arn)
    waf = client("wafv2", configuration, secrets, region=parts["region"])
    answer = call(waf, "get_web_acl", resource=f"web ACL {parts['name']}", Name=parts["name"], Scope=parts["scope"], Id=parts["id"])
    return jsonable(answer["WebACL"])


def web_acl_for_resource(resource_arn: str, configuration: Configuration | None = None,
                         secrets: Secrets | None = None) -> dict | None:
    """The web ACL associated with a regional resource (an ALB), or None. Not for CloudFront:
    a distribution names its web ACL in its own configuration (``WebACLId``)."""
    match = _REGION.match(resource_arn)
    waf = client("wafv2", configuration, secrets, region=match.group(1) if match else None)
    answer = call(waf, "get_web_acl_for_resource", resource=f"web ACL of {resource_arn}", ResourceArn=resource_arn)
    return jsonable(answer["WebACL"]) if answer.get("WebACL") else None


def rate_based_rules(web_acl: dict) -> list[dict]:
    """The rules of a web ACL that rate-limit and block (or challenge) above the limit."""
    return [rule for rule in web_acl.get("Rules", [])
            if "RateBasedStatement" in rule.get("Statement", {})
            and not {"Count", "Allow"} & set(rule.get("Action", {}))]
