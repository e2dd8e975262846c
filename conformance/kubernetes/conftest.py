"""Fixtures and hooks of the Kubernetes suite: one parameter per workload a claim names.

A per-workload check runs once for each workload (id ``namespace/name``) that a claim naming
its kind speaks about (``claims[].workloads``), as evidence for those claims only: a PDB
missing on ``athens/athens`` violates the claims about that workload, never another's.

An API server that does not answer, a kubeconfig without the context, credentials the API
refuses and a Forbidden (RBAC) answer end a check as skipped with the reason: the claim is
``not-checked``, never violated by a failure to ask. The mutating check (``mutating`` marker)
runs last.
"""

from __future__ import annotations

import pytest

from gauntlet.catalogue import matches_any
from gauntlet.environment import Environment, Workload
from gauntlet.exceptions import ResourceMissing
from gauntlet.kubernetes import client as kube_client
from gauntlet.kubernetes import manifests
from gauntlet.kubernetes.manifests import Document
from gauntlet.kubernetes.workload.probes import read_workload, workload_pods
from gauntlet.plugin import environment_of


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mutating: changes the target (a rolling restart); runs only where the "
                                       "environment opts in, after every read-only check")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``workload``: each workload that a claim naming the check's kind speaks about; ``live_workload``:
    the one the environment opts in to roll (``kubernetes.live_rollout``), when such a claim names it."""
    if "workload" not in metafunc.fixturenames and "live_workload" not in metafunc.fixturenames:
        return
    name = "workload" if "workload" in metafunc.fixturenames else "live_workload"
    kinds = [k for m in metafunc.definition.iter_markers("check") for k in m.args]
    env = environment_of(metafunc.config)
    claims = [c for c in env.claims if matches_any(c.evidence, kinds)]
    workloads = list(dict.fromkeys(w for c in claims for w in env.workloads_of(c)))
    live = env.kubernetes.live_rollout if env.kubernetes else None
    if name == "live_workload":
        workloads = [w for w in workloads if live is not None and w.ref == live.workload]
    if workloads:
        metafunc.parametrize(name, [pytest.param(w, id=w.ref) for w in workloads])
    elif claims and name == "live_workload":
        why = (f"environment {env.name} does not opt in to a live rolling update of a workload these claims name "
               f"({', '.join(c.id for c in claims)}): kubernetes.live_rollout")
        metafunc.parametrize(name, [pytest.param(None, id="none", marks=pytest.mark.skip(reason=why))])
    else:  # evidence for no claim here: the plugin deselects it
        metafunc.parametrize(name, [pytest.param(None, id="none")])


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mutating checks after every other: read-only checks must not observe a rollout."""
    items.sort(key=lambda item: item.get_closest_marker("mutating") is not None)


@pytest.fixture(scope="session")
def kube(environment: Environment) -> dict:
    """The activities' configuration for the environment's cluster, once its API server has answered."""
    if environment.kubernetes is None:
        pytest.skip(f"environment {environment.name} names no Kubernetes cluster (no kubernetes section)")
    configuration = {**kube_client.configuration_for(environment.kubernetes),
                     "chaos_allowed": environment.chaos.allowed, "chaos_namespaces": list(environment.chaos.namespaces)}
    kube_client.server_version(configuration)
    return configuration


@pytest.fixture(scope="session")
def manifest_documents(environment: Environment) -> list[Document]:
    """The documents of the environment's ``kubernetes.manifests`` (the next install or upgrade)."""
    paths = environment.kubernetes.manifests if environment.kubernetes else ()
    if not paths:
        pytest.skip(f"environment {environment.name} names no manifests to validate (kubernetes.manifests: the "
                    "helm template output of the next install or upgrade)")
    return manifests.read(paths)


@pytest.fixture
def objects(workload: Workload | None, kube: dict) -> list[dict]:
    """The workload's objects as the API returns them (its parts, else the one named); a missing one fails the check."""
    found = []
    for name in workload.objects:
        try:
            found.append(read_workload(name, workload.namespace, workload.kind, kube))
        except ResourceMissing as exc:
            pytest.fail(f"{workload.ref}: {exc}: the environment names this {workload.kind} (kubernetes.workloads)",
                        pytrace=False)
    return found


@pytest.fixture
def pods(objects: list[dict], kube: dict) -> list[dict]:
    """The pods of the workload's objects, as the API returns them."""
    return workload_pods(objects, kube)
