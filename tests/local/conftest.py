"""Fixtures of the local stack's tests: the GOPROXY tier with or without fault profiles; the cluster tier,
one for the whole session, healthy again before each test that asks for it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from gauntlet.local import goproxy_tier, kube_cluster
from gauntlet.local.goproxy_tier import COMPONENTS, running_pid


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="session")
def goproxy_tier_left_as_found() -> Iterator[None]:
    """After the session: the GOPROXY tier healthy again if it was running before, stopped otherwise. Only a
    session that uses the tier (``stack``) touches it: the other tiers' tests, run under their own locks, must
    not restart or stop a GOPROXY tier that another session holds."""
    was_running = any(running_pid(c.name) for c in COMPONENTS)
    yield
    if was_running:
        goproxy_tier.up(progress=quiet)
    else:
        goproxy_tier.down()


@pytest.fixture
def stack(request: pytest.FixtureRequest, goproxy_tier_left_as_found: None) -> dict:
    """The tier up with the fault profiles given as indirect parameter (none by default); its status()."""
    faults = getattr(request, "param", ())
    return goproxy_tier.up(faults, progress=quiet)


@pytest.fixture
def edge(stack: dict) -> Iterator[httpx.Client]:
    """An HTTP/2 client of the edge that trusts the local CA."""
    trust = ssl.create_default_context(cafile=stack["ca_bundle"])
    with httpx.Client(base_url=stack["edge_url"], verify=trust, http2=True, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def cluster_tier(request: pytest.FixtureRequest) -> dict:
    """The cluster tier up (built and started if needed) for the session; afterwards left as it was found:
    stopped, or up and healthy. A cleanup of the pytest run, so it comes after every fixture's teardown."""
    was_running = kube_cluster.running_pid("kube-apiserver") is not None

    def leave_as_found() -> None:
        if was_running:
            kube_cluster.up(progress=quiet)
        else:
            kube_cluster.down()

    request.config.add_cleanup(leave_as_found)
    return kube_cluster.up(progress=quiet)


@pytest.fixture
def cluster(cluster_tier: dict, request: pytest.FixtureRequest) -> dict:
    """The cluster tier with the fault profiles given as indirect parameter (none by default): nodes
    schedulable, seed workloads applied and available (what an earlier test changed is settled); its status()."""
    return kube_cluster.up(getattr(request, "param", ()), progress=quiet)
