"""EC2 probes: the network around a resource (subnets, their routes, security groups)."""

from __future__ import annotations

from collections.abc import Sequence

from chaoslib.types import Configuration, Secrets

from gauntlet.cloud.session import client, jsonable, pages

ANYWHERE = ("0.0.0.0/0", "::/0")


def describe_subnets(subnet_ids: Sequence[str], configuration: Configuration | None = None,
                     secrets: Secrets | None = None) -> list[dict]:
    """Each subnet with ``InternetRoutes``: the default routes of its route table that lead to an internet gateway."""
    ec2 = client("ec2", configuration, secrets)
    subnets = pages(ec2, "describe_subnets", "Subnets", resource=f"subnets {list(subnet_ids)}", SubnetIds=list(subnet_ids))
    out = []
    for subnet in subnets:
        tables = pages(ec2, "describe_route_tables", "RouteTables", resource=f"route table of {subnet['SubnetId']}",
                       Filters=[{"Name": "association.subnet-id", "Values": [subnet["SubnetId"]]}])
        if not tables:  # no explicit association: the VPC's main route table applies
            tables = pages(ec2, "describe_route_tables", "RouteTables", resource=f"main route table of {subnet['VpcId']}",
                           Filters=[{"Name": "vpc-id", "Values": [subnet["VpcId"]]}, {"Name": "association.main", "Values": ["true"]}])
        routes = [r for t in tables for r in t.get("Routes", [])
                  if str(r.get("GatewayId", "")).startswith("igw-")
                  and (r.get("DestinationCidrBlock") in ANYWHERE or r.get("DestinationIpv6CidrBlock") in ANYWHERE)]
        out.append({**jsonable(subnet), "RouteTableIds": [t["RouteTableId"] for t in tables], "InternetRoutes": jsonable(routes)})
    return out


def describe_security_groups(group_ids: Sequence[str], configuration: Configuration | None = None,
                             secrets: Secrets | None = None) -> list[dict]:
    ec2 = client("ec2", configuration, secrets)
    return jsonable(pages(ec2, "describe_security_groups", "SecurityGroups", resource=f"security groups {list(group_ids)}",
                          GroupIds=list(group_ids)))


def open_to_anywhere(group: dict, port: int) -> list[dict]:
    """The inbound rules of ``group`` that let anyone on the internet reach ``port``."""
    found = []
    for rule in group.get("IpPermissions", []):
        everyone = [r.get("CidrIp") for r in rule.get("IpRanges", [])] + [r.get("CidrIpv6") for r in rule.get("Ipv6Ranges", [])]
        if not any(cidr in ANYWHERE for cidr in everyone):
            continue
        low, high = rule.get("FromPort"), rule.get("ToPort")
        if rule.get("IpProtocol") == "-1" or low is None or (low <= port <= (high if high is not None else low)):
            found.append(rule)
    return found
