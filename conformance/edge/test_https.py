"""HTTPS at the edge: it is served, over HTTP/2 where the environment says so, and plain HTTP is sent
there with a permanent redirect.

Rules: RFC 9110 15.4.2 (301) and 15.4.9 (308), RFC 6797 section 7.2 (an HSTS host redirects plain
HTTP to HTTPS), RFC 9113 section 3.2 and RFC 7301 (HTTP/2 over TLS, negotiated with ALPN ``h2``).
Seeds: TLS terminated at the edge (000, 004); castle states the opposite, "The only supported
protocol for the service is HTTP." (003), a known risk these checks make visible.

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from gauntlet.edge.client import get, negotiated_protocol
from gauntlet.edge.targets import Address, redirect_probe_path
from gauntlet.edge.tls import handshake_refusal
from gauntlet.environment import Environment
from gauntlet.exceptions import TargetUnreachable


def _https_hosts(environment: Environment, requested: str) -> set[str]:
    hosts = {requested} | {e.url.host for e in environment.endpoints if e.role == "edge" and e.url.scheme == "https"}
    hosts |= {e.server_name for e in environment.endpoints if e.server_name}
    return hosts | set(environment.tls.hosts if environment.tls else ())


@pytest.mark.check("edge.https.redirects-http")
def test_plain_http_redirects_to_https(plain_http_address: Address, environment: Environment, edge_http: httpx.Client):
    """Plain HTTP answers 301 or 308 to HTTPS on the same host, path and query."""
    if environment.tls is not None and not environment.tls.redirect_http:
        pytest.skip(f"environment {environment.name} does not promise an HTTP redirect (tls.redirect_http: false)")
    probe = redirect_probe_path(environment)
    url = plain_http_address.url + probe
    answer = get(edge_http, plain_http_address.endpoint, url)
    location = answer.headers.get("location")
    expected = f"expected 301 or 308 to https://…{probe}"
    if answer.status not in (301, 308) or not location:
        found = f"{answer.status} to {location}" if location else f"{answer.status}, served over plain HTTP"
        pytest.fail(f"{answer.describe()}: {expected}, found {found}")
    target = urlsplit(urljoin(url, location))
    assert target.scheme == "https", f"GET {url}: {answer.status} to {location}: {expected}, found a {target.scheme}:// target"
    kept = target.path + (f"?{target.query}" if target.query else "")
    assert kept == probe, f"GET {url}: {answer.status} to {location}: {expected}, found path {kept!r}"
    allowed = _https_hosts(environment, urlsplit(url).hostname or "")
    assert target.hostname in allowed, (
        f"GET {url}: {answer.status} to {location}: expected a host of this edge ({sorted(allowed)}), found {target.hostname}")


@pytest.mark.check("edge.https.served")
def test_https_is_served(https_address: Address, environment: Environment, http_client: httpx.Client, record_property):
    """The edge answers HTTPS with a certificate clients trust (system store plus the environment's CA bundles).
    Any HTTP status will do: what the answer says is other checks' business."""
    url = https_address.url + "/"
    try:
        answer = get(http_client, https_address.endpoint, url)
    except TargetUnreachable as exc:
        stated = " (the environment declares no tls section: HTTP only)" if environment.tls is None else ""
        refused = handshake_refusal(str(exc))
        if refused == "cipher":
            pytest.fail(f"{exc}: expected a TLS handshake with a client offering OpenSSL's default cipher suites at "
                        f"{url}: the edge shares no cipher suite with it, its cipher configuration refused the "
                        "handshake before any certificate was sent (edge.tls.cipher-profile lists what it accepts)",
                        pytrace=False)
        if refused == "protocol":
            pytest.fail(f"{exc}: expected a TLS handshake at {url}: the edge shares no protocol version with a "
                        "client offering TLS 1.2 and 1.3 (edge.tls.min-version lists what it accepts)", pytrace=False)
        pytest.fail(f"{exc}: expected HTTPS with a trusted certificate at {url}{stated}", pytrace=False)
    record_property("https", answer.describe())


@pytest.mark.check("edge.https.http2")
def test_http2_is_negotiated(https_address: Address):
    """Where the endpoint says so (``endpoints[].http2``, the default), the HTTPS edge selects HTTP/2 (ALPN ``h2``)
    in a handshake offering ``h2`` and ``http/1.1``, as browsers and CDNs do."""
    endpoint = https_address.endpoint
    if not endpoint.http2:
        pytest.skip(f"endpoint {endpoint.name} does not promise HTTP/2 (http2: false)")
    if https_address.derived:
        pytest.skip(f"endpoint {endpoint.name} is declared over plain HTTP: its HTTPS address is not its own promise")
    try:
        selected = negotiated_protocol(endpoint)
    except TargetUnreachable as exc:
        pytest.fail(f"{exc}: expected a TLS handshake to negotiate HTTP/2 in", pytrace=False)
    assert selected == "h2", (
        f"TLS {endpoint.url.host}:{endpoint.url.port or 443} (SNI {endpoint.server_name or endpoint.url.host}) ALPN "
        f"offering h2, http/1.1: expected h2 (endpoint {endpoint.name}, http2: true), found "
        f"{selected or 'no protocol selected: HTTP/1.1 only'}")
