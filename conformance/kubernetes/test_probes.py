"""Probes, memory, disk and images: what lets Kubernetes route around a sick pod and bring a crashed one back.

Seed 001: "the containers either run out of memory and crash, or just crash because they feel like
it. And then I have to hope the cloud restarts them quickly." Seed 003: each tier is load balanced
"with simple healthchecks"; "All components are resilient to failure". A readiness probe takes a
sick pod out of the Service, a liveness probe restarts a hung one (and must not be the readiness
probe, or a dependency's hiccup restarts every pod at once), a memory request and limit make an OOM
kill a restart of that pod rather than the node's trouble, ephemeral-storage requests and limits do
the same for data kept on local disk, and a pinned image brings back the same code.

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import re

import pytest

from gauntlet.environment import Environment, Workload
from gauntlet.kubernetes.arithmetic import quantity_bytes
from gauntlet.kubernetes.workload.probes import pod_template, probe_handler

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


@pytest.mark.check("kubernetes.probes.readiness-differs-from-liveness")
def test_readiness_probe_is_not_the_liveness_probe(workload: Workload, objects: list[dict]) -> None:
    """The liveness probe asks something else than the readiness probe (kube-score's pod-probes-identical): with the
    same handler, whatever makes a pod unready (a dependency's hiccup, a slow start) also has the kubelet restart it,
    on every pod at once, instead of only taking it out of the Service."""
    _long_running(workload)
    same = []
    for o, i, c in _containers(workload, objects):
        readiness, liveness = c.get("readinessProbe"), c.get("livenessProbe")
        if readiness and liveness and probe_handler(readiness, c) == probe_handler(liveness, c):
            same.append(f"{_where(workload, o, i, c, 'readinessProbe')} and livenessProbe both "
                        f"{' '.join(map(str, probe_handler(liveness, c)))}")
    assert not same, "; ".join(f"{m}: expected a liveness probe that does not fail with readiness (a process check, "
                               "not the serving path)" for m in same)


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


@pytest.mark.check("kubernetes.resources.ephemeral-storage")
def test_disk_kept_data_is_requested_and_limited(workload: Workload, objects: list[dict]) -> None:
    """Where a pod keeps data on local disk (an ``emptyDir`` not in memory: Athens' disk storage), every container
    mounting it requests and limits ``ephemeral-storage`` (request <= limit), and the pod's limits hold the volume's
    ``sizeLimit``: the scheduler then places it on a node with the room, and a full disk evicts this pod, not its
    neighbours (Kubernetes, "Local ephemeral storage"): the disk version of running out of memory."""
    problems, disks = [], 0
    for obj in objects:
        spec = pod_template(obj).get("spec") or {}
        on_disk = {v["name"]: (v.get("emptyDir") or {}).get("sizeLimit") for v in spec.get("volumes") or ()
                   if "emptyDir" in v and (v.get("emptyDir") or {}).get("medium") != "Memory"}
        disks += len(on_disk)
        if not on_disk:
            continue
        name = obj["metadata"]["name"]
        containers = list(enumerate(spec.get("containers") or ()))
        limits = [((c.get("resources") or {}).get("limits") or {}).get("ephemeral-storage") for _, c in containers]
        for i, c in containers:
            mounted = [m["name"] for m in c.get("volumeMounts") or () if m.get("name") in on_disk]
            if not mounted:
                continue
            resources = c.get("resources") or {}
            request = (resources.get("requests") or {}).get("ephemeral-storage")
            limit = (resources.get("limits") or {}).get("ephemeral-storage")
            where = f"{_where(workload, name, i, c, 'resources')} (mounts emptyDir {', '.join(mounted)})"
            if request is None or limit is None:
                problems.append(f"{where}: expected ephemeral-storage request and limit, found request "
                                f"{request or 'none'}, limit {limit or 'none'}")
            elif quantity_bytes(request) > quantity_bytes(limit):
                problems.append(f"{where}: expected ephemeral-storage request <= limit, found {request} > {limit}")
        sized = {v: size for v, size in on_disk.items() if size is not None}
        if sized and all(limits):
            total, wanted = sum(map(quantity_bytes, limits)), sum(map(quantity_bytes, sized.values()))
            if total < wanted:
                problems.append(f"{workload.ref}: {workload.kind} {name}: ephemeral-storage limits "
                                f"({', '.join(map(str, limits))}) below the emptyDir sizeLimit "
                                f"({', '.join(f'{v}: {size}' for v, size in sized.items())}): expected limits that "
                                "hold the volume, found the pod evicted before it fills")
    if not disks:
        pytest.skip(f"{workload.ref}: no emptyDir on local disk: it keeps no data there")
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

