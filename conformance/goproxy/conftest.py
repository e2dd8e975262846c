"""Fixtures of the GOPROXY suite: one parameter per protocol endpoint and per probe module."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gauntlet.environment import Endpoint, Environment, ModuleVersion
from gauntlet.goproxy.client import GoproxyClient
from gauntlet.goproxy.gosum import read_go_sum
from gauntlet.plugin import environment_of


def _endpoints(env: Environment) -> list[Endpoint]:
    goproxy = env.goproxy
    return [env.endpoint(name) for name in goproxy.endpoints] if goproxy else []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``target``: each endpoint serving the protocol; ``probe``: each module@version of the probe set."""
    env = environment_of(metafunc.config)
    if env.goproxy is None:
        absent = [pytest.param(None, marks=pytest.mark.skip(reason=f"environment {env.name} serves no Go module proxy (no goproxy section)"))]
        for name in {"target", "probe", "mixed_case_probe"} & set(metafunc.fixturenames):
            metafunc.parametrize(name, absent, ids=["no-goproxy"])
        return
    if "target" in metafunc.fixturenames:
        targets = _endpoints(env)
        metafunc.parametrize("target", targets, ids=[e.name for e in targets], scope="session")
    if "probe" in metafunc.fixturenames:
        metafunc.parametrize("probe", env.goproxy.probe_set, ids=_probe_id)
    if "mixed_case_probe" in metafunc.fixturenames:
        mixed = [p for p in env.goproxy.probe_set if p.module != p.module.lower()]
        none = pytest.param(None, marks=pytest.mark.skip(reason="no module of the probe set has an upper-case letter"))
        metafunc.parametrize("mixed_case_probe", mixed or [none], ids=[_probe_id(p) for p in mixed] or ["none"])


def _probe_id(probe: ModuleVersion) -> str:
    return f"{probe.module}@{probe.version}"


@pytest.fixture(scope="session")
def goproxy(target: Endpoint, http_client: httpx.Client) -> GoproxyClient:
    """A protocol client of one endpoint, sharing the session's HTTP/2 pool."""
    return GoproxyClient(str(target.url), http_client, target.timeout_s, target.request_deadline_s)


@pytest.fixture(scope="session")
def goproxies(environment: Environment, http_client: httpx.Client) -> dict[str, GoproxyClient]:
    """A protocol client of every endpoint serving the protocol, by endpoint name."""
    return {e.name: GoproxyClient(str(e.url), http_client, e.timeout_s, e.request_deadline_s) for e in _endpoints(environment)}


@pytest.fixture(scope="session")
def known_sums(environment: Environment) -> dict[tuple[str, str], str]:
    """Known-good go.sum hashes of the probe set: (module, version or version/go.mod) -> h1."""
    if environment.goproxy is None or environment.goproxy.go_sum is None:
        pytest.skip(f"environment {environment.name} names no known-good go.sum (goproxy.go_sum)")
    return read_go_sum(Path(environment.goproxy.go_sum))


@pytest.fixture
def module(probe: ModuleVersion) -> str:
    return probe.module


@pytest.fixture
def version(probe: ModuleVersion) -> str:
    return probe.version
