"""Fixtures of the edge suite: one parameter per TLS host, per edge address and per cached path."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gauntlet import transport
from gauntlet.edge import targets, tls
from gauntlet.edge.client import unverified_tls
from gauntlet.edge.providers import Provider
from gauntlet.edge.providers import provider as provider_row
from gauntlet.environment import Cdn, Environment
from gauntlet.exceptions import ConfigError
from gauntlet.plugin import environment_of

#: fixture name -> (what it holds, why there may be none)
_RESOURCES = {
    "immutable_resource": (("immutable",), "no request class with cache: immutable"),
    "mutable_resource": (("mutable",), "no request class with cache: mutable"),
    "no_store_resource": (("no-store",), "no request class with cache: no-store"),
    "error_resource": (("error",), "no request class with cache: error"),
    "short_lived_resource": (("mutable", "no-store"), "no request class with cache: mutable or no-store"),
    "served_resource": (("immutable", "mutable", "no-store"), "no request class of served resources"),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    env = environment_of(metafunc.config)

    def parametrize(name: str, values: list, why_none: str, scope: str = "function") -> None:
        if values:
            metafunc.parametrize(name, values, ids=[v.id if hasattr(v, "id") else v.name for v in values], scope=scope)
        else:
            skip = pytest.mark.skip(reason=f"environment {env.name}: {why_none}")
            metafunc.parametrize(name, [pytest.param(None, marks=skip)], ids=["none"], scope=scope)

    if "tls_target" in metafunc.fixturenames:
        why = "declares no tls section" if env.tls is None else "has no https:// edge endpoint"
        parametrize("tls_target", targets.tls_targets(env), why, scope="session")
    if "plain_http_address" in metafunc.fixturenames:
        parametrize("plain_http_address", targets.plain_http(env), "has no edge reachable over plain HTTP")
    if "https_address" in metafunc.fixturenames:
        parametrize("https_address", targets.https(env), "has no edge endpoint")
    if "cdn_edge" in metafunc.fixturenames:
        parametrize("cdn_edge", targets.cdn_edges(env), "has no CDN edge (cdn.provider)")
    if "age_resource" in metafunc.fixturenames:
        first = {}
        for resource in targets.resources(env, "immutable"):
            first.setdefault(resource.endpoint.name, resource)
        parametrize("age_resource", list(first.values()), "no request class with cache: immutable at a CDN edge")
    for name, (kinds, why) in _RESOURCES.items():
        if name in metafunc.fixturenames:
            found = [r for kind in kinds for r in targets.resources(env, kind)]
            parametrize(name, found, why if env.cdn and env.cdn.provider != "none" else "has no CDN edge (cdn.provider)")


@pytest.fixture(scope="session")
def edge_http(environment: Environment) -> Iterator[httpx.Client]:
    """HTTP/2 client for the edge's HTTP behaviour (caching, redirects, errors), each request within its
    deadline and each answer within its cap (gauntlet.transport).

    It does not verify certificates and offers the go command's cipher suites: certificate and cipher
    policy are judged by the TLS checks, so such a fault shows there, once, and not again in every
    caching check. It sends no credentials.
    """
    with transport.client(environment.limits, verify=unverified_tls(), http2=True, follow_redirects=False,
                          headers={"User-Agent": "gauntlet (conformance; edge)"}) as client:
        yield client


@pytest.fixture(scope="session")
def cdn(environment: Environment) -> Cdn:
    if environment.cdn is None:
        pytest.skip(f"environment {environment.name} declares no cdn section")
    return environment.cdn


@pytest.fixture(scope="session")
def provider(cdn: Cdn, environment: Environment) -> Provider:
    """The CDN provider's vocabulary and defaults (gauntlet.edge.providers)."""
    row = provider_row(cdn.provider)
    if row is None:
        pytest.skip(f"environment {environment.name}: cdn.provider is {cdn.provider!r}, no CDN cache to judge")
    return row


@pytest.fixture(scope="session")
def tls_scan(tls_target: targets.TlsTarget) -> dict:
    """The sslyze findings for one host at one edge address, scanned once per worker."""
    try:
        return tls.scan(tls_target.address, tls_target.port, tls_target.host, ca_file=tls_target.endpoint.ca_path,
                        timeout_s=tls_target.endpoint.timeout_s, raise_on_unreachable=False)
    except ConfigError as exc:
        pytest.skip(f"{exc} (is the stack up?)")
