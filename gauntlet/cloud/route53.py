"""Route 53 probes: a public hosted zone and its record sets."""

from __future__ import annotations

from chaoslib.types import Configuration, Secrets

from gauntlet.cloud.session import GLOBAL_REGION, call, client, jsonable, pages
from gauntlet.exceptions import ResourceMissing


def fqdn(name: str) -> str:
    return name.rstrip(".").lower() + "."


def find_hosted_zone(name_or_id: str, configuration: Configuration | None = None,
                     secrets: Secrets | None = None) -> dict:
    """The public hosted zone of this name (``example.org``) or id (``Z0123...``)."""
    route53 = client("route53", configuration, secrets, region=GLOBAL_REGION)
    if "." not in name_or_id.rstrip("."):
        return jsonable(call(route53, "get_hosted_zone", resource=f"hosted zone {name_or_id}", Id=name_or_id)["HostedZone"])
    listed = call(route53, "list_hosted_zones_by_name", resource=f"hosted zone {name_or_id}", DNSName=fqdn(name_or_id))
    zones = listed.get("HostedZones") or []
    public = [z for z in zones if z["Name"].lower() == fqdn(name_or_id) and not z.get("Config", {}).get("PrivateZone")]
    if not public:
        raise ResourceMissing(f"Route 53: no public hosted zone named {fqdn(name_or_id)}")
    return jsonable(public[0])


def record_sets(hosted_zone_id: str, name: str, configuration: Configuration | None = None,
                secrets: Secrets | None = None) -> list[dict]:
    """The record sets of exactly this name in the zone (every type)."""
    route53 = client("route53", configuration, secrets, region=GLOBAL_REGION)
    found = pages(route53, "list_resource_record_sets", "ResourceRecordSets", resource=f"records of {fqdn(name)}",
                  HostedZoneId=hosted_zone_id, StartRecordName=fqdn(name))
    return jsonable([r for r in found if fqdn(r["Name"].replace("\\052", "*")) == fqdn(name)])
