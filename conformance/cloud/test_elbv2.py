"""The application load balancer in front of the hub pods (seed 004, "Load Balancing")."""

from __future__ import annotations

import pytest

from gauntlet.cloud import elbv2


@pytest.mark.check("aws.elbv2.two-zones")
def test_alb_spans_two_availability_zones(load_balancer):
    """An ALB that distributes traffic among the hub instances survives losing a zone: it spans at least two."""
    zones = sorted({z["ZoneName"] for z in load_balancer.get("AvailabilityZones", [])})
    assert len(zones) >= 2, (
        f"ALB {load_balancer['LoadBalancerName']}: AvailabilityZones: expected at least 2, found {len(zones)} {zones}")


@pytest.mark.check("aws.elbv2.targets-healthy")
def test_every_target_is_healthy(load_balancer, aws_configuration, aws_emulator):
    """"an application load balancer distributes traffic among the hub instances available\": every registered
    target of its target groups is healthy."""
    groups = elbv2.describe_target_health(load_balancer["LoadBalancerArn"], aws_configuration)
    targets = [(g["TargetGroupName"], t) for g in groups for t in g["Targets"]]
    assert targets, f"ALB {load_balancer['LoadBalancerName']}: registered targets: expected the hub's, found none"
    sick = [f"{group}: {t['Target']['Id']}:{t['Target'].get('Port')} is {t['TargetHealth']['State']} "
            f"({t['TargetHealth'].get('Reason')}: {t['TargetHealth'].get('Description')})"
            for group, t in targets if t["TargetHealth"]["State"] != "healthy"]
    assert not sick, f"ALB {load_balancer['LoadBalancerName']}: TargetHealth.State: expected healthy, found {sick}"
    if aws_emulator == "moto":
        pytest.skip(f"{elbv2.MOTO_TARGET_HEALTH} ({len(targets)} targets answered healthy)")


@pytest.mark.check("aws.elbv2.managed-by-the-controller")
def test_alb_is_managed_by_the_load_balancer_controller(load_balancer, aws, aws_configuration):
    """"It is created and managed automatically by the AWS Load Balancer Controller based on the hub ingress
    resource\": it carries the controller's tags, for this environment's cluster."""
    tags = elbv2.describe_tags(load_balancer["LoadBalancerArn"], aws_configuration)
    name = load_balancer["LoadBalancerName"]
    assert tags.get("ingress.k8s.aws/stack"), f"ALB {name}: tag ingress.k8s.aws/stack: expected the hub ingress, found {tags}"
    if aws.eks_cluster:
        assert tags.get("elbv2.k8s.aws/cluster") == aws.eks_cluster, (
            f"ALB {name}: tag elbv2.k8s.aws/cluster: expected {aws.eks_cluster}, found {tags.get('elbv2.k8s.aws/cluster')!r}")
