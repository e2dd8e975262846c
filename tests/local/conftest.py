"""Fixtures of the GOPROXY tier's tests: the running stack, with or without fault profiles."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from gauntlet.local import goproxy_tier
from gauntlet.local.goproxy_tier import COMPONENTS, running_pid


@pytest.fixture(scope="session", autouse=True)
def _leave_the_tier_as_found() -> Iterator[None]:
    """After the session: the GOPROXY tier healthy again if it was running before, stopped otherwise
    (the other tiers' tests look after theirs)."""
    was_running = any(running_pid(c.name) for c in COMPONENTS)
    yield
    if was_running:
        goproxy_tier.up(progress=lambda _: None)
    else:
        goproxy_tier.down()


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> dict:
    """The tier up with the fault profiles given as indirect parameter (none by default); its status()."""
    faults = getattr(request, "param", ())
    return goproxy_tier.up(faults, progress=lambda _: None)


@pytest.fixture
def edge(stack: dict) -> Iterator[httpx.Client]:
    """An HTTP/2 client of the edge that trusts the local CA."""
    trust = ssl.create_default_context(cafile=stack["ca_bundle"])
    with httpx.Client(base_url=stack["edge_url"], verify=trust, http2=True, timeout=10) as client:
        yield client
