"""What the edge suite checks, read off an environment: TLS hosts, plain-HTTP and HTTPS addresses, cached paths.

Only the environment's own endpoints are named here; an address is derived (``http://`` of an
``https://`` edge, or the reverse) only for an edge on the scheme's default port, where the other
scheme's default port is where a client would go.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from gauntlet.environment import Endpoint, Environment, RequestClass

CacheKind = Literal["immutable", "mutable", "no-store", "error"]


@dataclass(frozen=True)
class TlsTarget:
    """One TLS hostname served at one edge address: connect to ``address:port``, send ``host`` as SNI."""

    endpoint: Endpoint
    host: str
    address: str
    port: int

    @property
    def id(self) -> str:
        return f"{self.endpoint.name}-{self.host}"


@dataclass(frozen=True)
class Address:
    """A URL a check requests, and the endpoint it belongs to (derived when the environment only names the other scheme)."""

    endpoint: Endpoint
    url: str
    derived: bool = False

    @property
    def id(self) -> str:
        return f"{self.endpoint.name}-{urlsplit(self.url).scheme}" if self.derived else self.endpoint.name


@dataclass(frozen=True)
class Resource:
    """One path of a request class, requested at one CDN edge."""

    endpoint: Endpoint
    request_class: RequestClass
    path: str

    @property
    def url(self) -> str:
        return base_url(self.endpoint) + self.path

    @property
    def id(self) -> str:
        return f"{self.endpoint.name}-{self.request_class.name}-{self.path}"


def base_url(endpoint: Endpoint) -> str:
    return str(endpoint.url).rstrip("/")


def _edges(env: Environment, scheme: str) -> list[Endpoint]:
    return [e for e in env.endpoints if e.role == "edge" and e.url.scheme == scheme]


def _default_port(endpoint: Endpoint) -> bool:
    return urlsplit(str(endpoint.url)).port is None


def tls_targets(env: Environment) -> list[TlsTarget]:
    """Each HTTPS edge address x each hostname of ``tls.hosts`` (or the endpoint's own name)."""
    if env.tls is None:
        return []
    targets = []
    for endpoint in _edges(env, "https"):
        hosts = env.tls.hosts or (endpoint.server_name or str(endpoint.url.host),)
        targets += [TlsTarget(endpoint, host, str(endpoint.url.host), endpoint.url.port or 443) for host in hosts]
    return targets


def plain_http(env: Environment) -> list[Address]:
    """Where a client may arrive over plain HTTP: declared ``http://`` edges, and ``http://host/`` of HTTPS edges on 443."""
    addresses = [Address(e, base_url(e)) for e in _edges(env, "http")]
    declared = {e.url.host for e in _edges(env, "http")}
    for endpoint in _edges(env, "https"):
        if _default_port(endpoint) and endpoint.url.host not in declared:
            addresses.append(Address(endpoint, f"http://{endpoint.url.host}", derived=True))
    return addresses


def https(env: Environment) -> list[Address]:
    """Where a client expects HTTPS: declared ``https://`` edges, and ``https://host/`` (port 443) of hosts served only over HTTP."""
    addresses = [Address(e, base_url(e)) for e in _edges(env, "https")]
    secured = {e.url.host for e in _edges(env, "https")}
    for endpoint in _edges(env, "http"):
        url = f"https://{endpoint.url.host}"
        if endpoint.url.host not in secured and url not in {a.url for a in addresses}:
            addresses.append(Address(endpoint, url, derived=True))
    return addresses


def cdn_edges(env: Environment) -> list[Endpoint]:
    """The endpoints where the CDN answers: HTTPS edges (else any edge); none without a CDN."""
    if env.cdn is None or env.cdn.provider == "none":
        return []
    return _edges(env, "https") or [e for e in env.endpoints if e.role == "edge"]


def resources(env: Environment, kind: CacheKind) -> list[Resource]:
    """Every path of every request class of this kind, at every CDN edge."""
    classes = [c for c in env.cdn.request_classes if c.cache == kind] if env.cdn else []
    return [Resource(e, c, path) for e in cdn_edges(env) for c in classes for path in c.paths]


def redirect_probe_path(env: Environment) -> str:
    """A real path of the target with a query: a redirect must keep both."""
    classes = env.cdn.request_classes if env.cdn else ()
    path = next((c.paths[0] for c in classes if c.cache != "error"), "/")
    return path + ("&" if "?" in path else "?") + "gauntlet-redirect-probe=1"
