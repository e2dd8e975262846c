"""Probes, memory and images: what lets Kubernetes route around a sick pod and bring a crashed one back.

Seed 001: "the containers either run out of memory and crash, or just crash because they feel like
it. And then I have to hope the cloud restarts them quickly." Seed 003: each tier is load balanced
"with simple healthchecks". A readiness probe takes a sick pod out of the Service, a liveness probe
restarts a hung one, a memory request and limit make an OOM kill a restart of that pod rather than
the node's trouble, and a pinned image brings back the same code.

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import re

import pytest

from gauntlet.environment import Environment, Workload
from gauntlet.kubernetes.arithmetic import quantity_bytes
from gauntlet.kubernetes.workload.probes import pod_template

#: Image references whose tag or digest names one build: a digest, or a tag other than ``latest``.
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
#: ``<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<commit>`` (seed 004's private ECR images).
ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<repo>[^:@]+)"
                       r":(?P<tag>[0-9a-f]{7,40})$")


def _containers(workload: Workload, objects: list[dict]) -> list[tuple[str, int, dict]]:
    """(object name, index, container) of every container of the workload's pod templates."""
    out = []
    for obj in objects:
        for i, container in enumerate((pod_template(obj).get("spec") or {}).get("containers") or ()):
            out.append((obj["metadata"]["name"], i, container))
    return out


def _where(workload: Workload, obj: str, i: int, container: dict, field: str) -> str:
    return (f"{workload.ref}: {workload.kind} {obj} container {container.get('name')}: "
            f"spec.template.spec.containers[{i}].{field}")


def _long_running(workload: Workload) -> Workload:
    if workload.kind in ("Job", "CronJob"):
        pytest.skip(f"{workload.ref} is a {workload.kind}: it runs to completion, probes do not apply")
    return workload


@pytest.mark.check("kubernetes.probes.readiness")
def test_containers_have_a_readiness_probe(workload: Workload, objects: list[dict]) -> None:
    """A readiness probe: the Service (and the load balancer behind it) only routes to pods that pass it."""
    _long_running(workload)
    missing = [_where(workload, o, i, c, "readinessProbe") for o, i, c in _containers(workload, objects)
               if not c.get("readinessProbe")]
    assert not missing, "; ".join(f"{m}: expected a readiness probe, found none" for m in missing)


@pytest.mark.check("kubernetes.probes.liveness")
def test_containers_have_a_liveness_probe(workload: Workload, objects: list[dict]) -> None:
    """A liveness probe: a hung container is restarted, not left holding its share of traffic."""
    _long_running(workload)
    missing = [_where(workload, o, i, c, "livenessProbe") for o, i, c in _containers(workload, objects)
               if not c.get("livenessProbe")]
    assert not missing, "; ".join(f"{m}: expected a liveness probe, found none" for m in missing)


@pytest.mark.check("kubernetes.resources.memory")
def test_containers_request_and_limit_memory(workload: Workload, objects: list[dict]) -> None:
    """``resources.requests.memory`` and ``resources.limits.memory`` on every container, request <= limit."""
    problems = []
    for o, i, c in _containers(workload, objects):
        resources = c.get("resources") or {}
        request = (resources.get("requests") or {}).get("memory")
        limit = (resources.get("limits") or {}).get("memory")
        if request is None or limit is None:
            problems.append(f"{_where(workload, o, i, c, 'resources')}: expected memory request and limit, "
                            f"found request {request or 'none'}, limit {limit or 'none'}")
        elif quantity_bytes(request) > quantity_bytes(limit):
            problems.append(f"{_where(workload, o, i, c, 'resources')}: expected memory request <= limit, "
                            f"found request {request} > limit {limit}")
    assert not problems, "; ".join(problems)


@pytest.mark.check("kubernetes.images.pinned")
def test_images_are_pinned(workload: Workload, objects: list[dict]) -> None:
    """Every image names one build (a tag other than ``latest``, or a digest): a restart brings back the same code."""
    floating = []
    for o, i, c in _containers(workload, objects):
        image = c.get("image") or ""
        if DIGEST.search(image):
            continue
        tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
        if tag in ("", "latest"):
            floating.append(f"{_where(workload, o, i, c, 'image')}: expected a pinned tag or digest, found {image!r}")
    assert not floating, "; ".join(floating)


@pytest.mark.check("kubernetes.images.ecr-commit-tagged")
def test_images_come_from_the_accounts_ecr_tagged_with_a_commit(workload: Workload, objects: list[dict],
                                                                 environment: Environment) -> None:
    """Seed 004: "a Docker image for each of the Artifact Hub components is built and pushed to ECR for each
    commit to the master branch": ``<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<commit SHA>``."""
    repositories = set(environment.aws.ecr_repositories) if environment.aws else set()
    problems = []
    for o, i, c in _containers(workload, objects):
        image = c.get("image") or ""
        match = ECR_IMAGE.match(image)
        if match is None:
            problems.append(f"{_where(workload, o, i, c, 'image')}: expected <account>.dkr.ecr.<region>.amazonaws.com/"
                            f"<repository>:<commit SHA>, found {image!r}")
        elif repositories and match["repo"] not in repositories:
            problems.append(f"{_where(workload, o, i, c, 'image')}: expected one of the ECR repositories "
                            f"{sorted(repositories)} (aws.ecr_repositories), found {match['repo']!r}")
    assert not problems, "; ".join(problems)

