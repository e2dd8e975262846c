"""EKS: the cluster and its managed node group (seed 004, "Elastic Kubernetes Service")."""

from __future__ import annotations

import pytest

from gauntlet.cloud import eks
from gauntlet.cloud.session import configuration_for


@pytest.mark.check("aws.eks.node-group-bounds")
def test_node_group_scales_within_the_stated_bounds(node_group, aws):
    """`eksctl create cluster ... --nodes=6 --nodes-min=6 --nodes-max=10`: the managed node group's scaling
    bounds are the environment's (aws.node_group_size), its desired size within them, and it is ACTIVE."""
    if aws.node_group_size is None:
        pytest.skip("the environment states no node group size (aws.node_group_size)")
    scaling, name = node_group.get("scalingConfig", {}), node_group["nodegroupName"]
    found = (scaling.get("minSize"), scaling.get("maxSize"))
    expected = (aws.node_group_size.min, aws.node_group_size.max)
    assert found == expected, (f"node group {name}: scalingConfig min..max: expected {expected[0]}..{expected[1]}, "
                               f"found {found[0]}..{found[1]}")
    desired = scaling.get("desiredSize") or 0
    assert expected[0] <= desired <= expected[1], (
        f"node group {name}: scalingConfig.desiredSize: expected {expected[0]}..{expected[1]}, found {desired}")
    assert node_group.get("status") == "ACTIVE", f"node group {name}: status: expected ACTIVE, found {node_group.get('status')}"


@pytest.mark.check("aws.eks.cluster-of-its-own")
def test_each_environment_has_its_own_cluster(aws, aws_configuration, separate_environments):
    """"Each environment (production and staging) runs on a separate cluster.\""""
    if not aws.eks_cluster:
        pytest.skip("the environment names no EKS cluster (aws.eks_cluster)")
    mine = eks.describe_cluster(aws.eks_cluster, aws_configuration)
    for other in separate_environments:
        assert other.aws.eks_cluster and other.aws.eks_cluster != aws.eks_cluster, (
            f"EKS cluster {aws.eks_cluster}: expected only this environment on it, found {other.name} names "
            f"{other.aws.eks_cluster!r}")
        theirs = eks.describe_cluster(other.aws.eks_cluster, configuration_for(other.aws))
        assert theirs.get("arn") != mine.get("arn"), (
            f"EKS cluster {aws.eks_cluster}: arn: expected its own, found the same as {other.name}'s ({mine.get('arn')})")
