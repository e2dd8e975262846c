"""How the workloads were installed: with the project's official Helm chart.

Seed 004: "The installation and upgrades are done using the official Helm chart provided by the project."
Helm labels and annotates every object it manages (``app.kubernetes.io/managed-by: Helm``,
``meta.helm.sh/release-name``).

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import pytest

from gauntlet.environment import Workload


@pytest.mark.check("kubernetes.helm.managed")
def test_workload_is_managed_by_helm(workload: Workload, objects: list[dict]) -> None:
    """The workload's objects carry Helm's label and release annotation."""
    unmanaged = []
    for obj in objects:
        meta = obj["metadata"]
        managed_by = (meta.get("labels") or {}).get("app.kubernetes.io/managed-by")
        release = (meta.get("annotations") or {}).get("meta.helm.sh/release-name")
        if managed_by != "Helm" or not release:
            unmanaged.append(f"{workload.kind} {meta['name']}: metadata.labels[app.kubernetes.io/managed-by] and "
                             f"annotations[meta.helm.sh/release-name]: expected Helm and a release, found "
                             f"{managed_by or 'no label'} and {release or 'no annotation'}")
    assert not unmanaged, f"{workload.ref}: " + "; ".join(unmanaged)
