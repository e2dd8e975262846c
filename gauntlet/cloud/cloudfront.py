"""CloudFront probes: a distribution, by id or by the domain it serves."""

from __future__ import annotations

from chaoslib.types import Configuration, Secrets

from gauntlet.cloud.errors import CloudConfigError
from gauntlet.cloud.session import GLOBAL_REGION, call, client, jsonable, pages
from gauntlet.exceptions import ResourceMissing

#: Route 53's hosted zone id of every CloudFront alias target.
HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"


def get_distribution(distribution_id: str | None = None, alias: str | None = None,
                     configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """``GetDistribution`` of the id, or of the distribution whose aliases hold ``alias``."""
    cloudfront = client("cloudfront", configuration, secrets, region=GLOBAL_REGION)
    if distribution_id is None:
        if alias is None:
            raise CloudConfigError("CloudFront: name the distribution (aws.cloudfront_distribution) or the domain it serves (aws.domain)")
        summaries = pages(cloudfront, "list_distributions", "DistributionList.Items", resource=f"distributions serving {alias}")
        matching = [s["Id"] for s in summaries if alias in (s.get("Aliases", {}).get("Items") or [])]
        if not matching:
            raise ResourceMissing(f"CloudFront: no distribution has the alias {alias!r} (ListDistributions)")
        distribution_id = matching[0]
    answer = call(cloudfront, "get_distribution", resource=f"distribution {distribution_id}", Id=distribution_id)
    return jsonable(answer["Distribution"])


def origin(distribution: dict, origin_id: str) -> dict | None:
    return next((o for o in distribution["DistributionConfig"]["Origins"].get("Items") or [] if o["Id"] == origin_id), None)


def behaviours(distribution: dict) -> list[dict]:
    """The default cache behaviour (``PathPattern`` ``*``) and every other one, in order."""
    config = distribution["DistributionConfig"]
    default = {**config["DefaultCacheBehavior"], "PathPattern": "*"}
    return [default, *(config.get("CacheBehaviors", {}).get("Items") or [])]


def is_s3_origin(item: dict) -> bool:
    return "S3OriginConfig" in item or ".s3." in item.get("DomainName", "") or item.get("DomainName", "").endswith(".s3.amazonaws.com")


def get_cache_policy(cache_policy_id: str, configuration: Configuration | None = None,
                     secrets: Secrets | None = None) -> dict:
    """A cache policy's configuration (``MinTTL``, ``DefaultTTL``, ``MaxTTL``, ...)."""
    cloudfront = client("cloudfront", configuration, secrets, region=GLOBAL_REGION)
    answer = call(cloudfront, "get_cache_policy", resource=f"cache policy {cache_policy_id}", Id=cache_policy_id)
    return jsonable(answer["CachePolicy"]["CachePolicyConfig"])
