"""Fixtures and hooks of the Kubernetes suite: one parameter per workload the environment names.

A per-workload check says which claims it can be evidence for (``@pytest.mark.evidence_for``);
each workload lists the claims that speak about it (``kubernetes.workloads[].claims``). A
workload's parameter is evidence for the claims in both lists, and the check runs for the
workloads where there is at least one (id: ``namespace/name``).

An API server that does not answer, a kubeconfig without the context, credentials the API
refuses and a Forbidden (RBAC) answer end a check as skipped with the reason: the claim is
``not-checked``, never violated by a failure to ask. The mutating check (``mutating`` marker)
runs last.
"""

from __future__ import annotations

from typing import Iterator, Optional

import pytest

from gauntlet.environment import Environment, Workload
from gauntlet.exceptions import NotChecked, ResourceMissing
from gauntlet.kubernetes import client as kube_client
from gauntlet.kubernetes.workload.probes import read_workload, workload_pods
from gauntlet.plugin import environment_of


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "evidence_for(*ids): claims a per-workload check can be evidence for; each "
                                       "workload's parameter keeps those its kubernetes.workloads[].claims name")
    config.addinivalue_line("markers", "mutating: changes the target (a rolling restart); runs only where the "
                                       "environment opts in, after every read-only check")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``workload``: each workload of the environment that one of the check's claims speaks about;
    ``live_workload``: the one the environment opts in to roll (``kubernetes.live_rollout``)."""
    if "workload" not in metafunc.fixturenames and "live_workload" not in metafunc.fixturenames:
        return
    name = "workload" if "workload" in metafunc.fixturenames else "live_workload"
    marker = metafunc.definition.get_closest_marker("evidence_for")
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: a per-workload check names the claims it can be "
                                "evidence for: @pytest.mark.evidence_for(\"<claim id>\", ...)")
    candidates = marker.args
    env = environment_of(metafunc.config)
    workloads = env.kubernetes.workloads if env.kubernetes else ()
    live = env.kubernetes.live_rollout if env.kubernetes else None
    if name == "live_workload":
        workloads = [env.kubernetes.workload(live.workload)] if live else ()
    params = []
    for workload in workloads:
        mine = [c for c in workload.claims if c in candidates]
        if mine:
            params.append(pytest.param(workload, id=workload.ref, marks=pytest.mark.claim(*mine)))
    if not params:
        declared = [c.id for c in env.claims if c.id in candidates]
        if env.kubernetes is None:
            why = f"environment {env.name} names no Kubernetes cluster"
        elif name == "live_workload" and live is None:
            why = f"environment {env.name} does not opt in to a live rolling update (kubernetes.live_rollout)"
        else:
            why = (f"no {'live_rollout ' if name == 'live_workload' else ''}workload of environment {env.name} lists "
                   f"{' or '.join(declared or candidates)} in kubernetes.workloads[].claims")
        params = [pytest.param(None, id="none", marks=[pytest.mark.claim(*candidates), pytest.mark.skip(reason=why)])]
    metafunc.parametrize(name, params)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mutating checks after every other: read-only checks must not observe a rollout."""
    items.sort(key=lambda item: item.get_closest_marker("mutating") is not None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    except NotChecked as exc:
        pytest.skip(str(exc))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    except NotChecked as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def kube(environment: Environment) -> dict:
    """The activities' configuration for the environment's cluster, once its API server has answered."""
    if environment.kubernetes is None:
        pytest.skip(f"environment {environment.name} names no Kubernetes cluster (no kubernetes section)")
    configuration = {**kube_client.configuration_for(environment.kubernetes),
                     "chaos_allowed": environment.chaos.allowed, "chaos_namespaces": list(environment.chaos.namespaces)}
    kube_client.server_version(configuration)
    return configuration


@pytest.fixture
def objects(workload: Optional[Workload], kube: dict) -> list[dict]:
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
