"""Elastic Load Balancing (v2) probes: the ALB, its listeners, target groups, target health and tags."""

from __future__ import annotations

from chaoslib.types import Configuration, Secrets

from gauntlet.cloud.session import call, client, jsonable, pages
from gauntlet.exceptions import ResourceMissing

#: moto 5.2 runs no health check: a target's state comes from its EC2 instance alone.
MOTO_TARGET_HEALTH = ("moto runs no health checks: it answers 'healthy' for every registered target whose EC2 instance "
                      "is running (and for every IP target), so a healthy answer proves nothing locally; only an "
                      "unhealthy one is evidence")


def describe_load_balancer(name: str, configuration: Configuration | None = None,
                           secrets: Secrets | None = None) -> dict:
    """The load balancer of this name (``AvailabilityZones``, ``DNSName``, ``LoadBalancerArn``, ...)."""
    elbv2 = client("elbv2", configuration, secrets)
    found = call(elbv2, "describe_load_balancers", resource=f"load balancer {name!r}", Names=[name]).get("LoadBalancers") or []
    if not found:
        raise ResourceMissing(f"load balancer {name!r}: DescribeLoadBalancers answered none")
    return jsonable(found[0])


def describe_listeners(load_balancer_arn: str, configuration: Configuration | None = None,
                       secrets: Secrets | None = None) -> list[dict]:
    elbv2 = client("elbv2", configuration, secrets)
    return jsonable(pages(elbv2, "describe_listeners", "Listeners", resource=f"listeners of {load_balancer_arn}",
                          LoadBalancerArn=load_balancer_arn))


def listener_certificates(listener_arn: str, configuration: Configuration | None = None,
                          secrets: Secrets | None = None) -> list[str]:
    """Every certificate ARN the listener serves (the default one first)."""
    elbv2 = client("elbv2", configuration, secrets)
    certificates = call(elbv2, "describe_listener_certificates", resource=f"certificates of {listener_arn}",
                        ListenerArn=listener_arn).get("Certificates") or []
    return [c["CertificateArn"] for c in sorted(certificates, key=lambda c: not c.get("IsDefault"))]


def describe_target_health(load_balancer_arn: str, configuration: Configuration | None = None,
                           secrets: Secrets | None = None) -> list[dict]:
    """One entry per target group of the load balancer: its name, type and each registered target's health."""
    elbv2 = client("elbv2", configuration, secrets)
    groups = pages(elbv2, "describe_target_groups", "TargetGroups", resource=f"target groups of {load_balancer_arn}",
                   LoadBalancerArn=load_balancer_arn)
    out = []
    for group in groups:
        health = call(elbv2, "describe_target_health", resource=f"targets of {group['TargetGroupName']}",
                      TargetGroupArn=group["TargetGroupArn"]).get("TargetHealthDescriptions") or []
        out.append({"TargetGroupName": group["TargetGroupName"], "TargetGroupArn": group["TargetGroupArn"],
                    "TargetType": group.get("TargetType"), "Targets": jsonable(health)})
    return out


def describe_tags(resource_arn: str, configuration: Configuration | None = None,
                  secrets: Secrets | None = None) -> dict[str, str]:
    elbv2 = client("elbv2", configuration, secrets)
    described = call(elbv2, "describe_tags", resource=f"tags of {resource_arn}", ResourceArns=[resource_arn])
    descriptions = described.get("TagDescriptions") or []
    return {t["Key"]: t.get("Value", "") for d in descriptions for t in d.get("Tags", [])}
