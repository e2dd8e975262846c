"""Caching headers per request class, as clients receive them through the edge (``cdn.request_classes``).

Rules: RFC 9111 (4.2.1 freshness lifetime: s-maxage, max-age, Expires; 5.2.2 no-store, no-cache,
private; 4.1 Vary). Facts: goproxy serves immutable artefacts with ``public, max-age=604800`` and
lists with ``max-age=60``; Athens marks lists ``no-cache, no-store, must-revalidate``; without
Cache-Control, Front Door keeps an answer 1-3 days and CloudFront 1 day.

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import httpx
import pytest

from gauntlet.answers import Fetched
from gauntlet.edge.client import get
from gauntlet.edge.headers import CacheControl, content_coding, freshness, vary
from gauntlet.edge.providers import Provider
from gauntlet.edge.targets import Resource


def _served(answer: Fetched) -> Fetched:
    if not 200 <= answer.status < 300:
        pytest.skip(f"{answer.describe()}: not the resource itself, so its caching headers are not judged "
                    "(what the edge serves is the protocol checks' business)")
    return answer


@pytest.mark.check("edge.cache-headers.immutable-long-lived")
def test_immutable_resources_are_cacheable_for_long(immutable_resource: Resource, edge_http: httpx.Client):
    """Immutable artefacts (a module version's .info/.mod/.zip, hashed static assets) may be kept by shared caches for at
    least the class's ``min_max_age``: storable (no no-store/private/no-cache) with s-maxage or max-age that long."""
    answer = _served(get(edge_http, immutable_resource.endpoint, immutable_resource.url))
    fresh = freshness(answer.headers)
    cc = fresh.cache_control
    minimum, maximum = immutable_resource.request_class.min_max_age, immutable_resource.request_class.max_max_age
    expected = f"expected a shared-cacheable answer with max-age >= {minimum} s (class {immutable_resource.request_class.name})"
    cacheable = fresh.storable and not cc.no_cache and fresh.lifetime_s is not None and fresh.lifetime_s >= minimum
    assert cacheable, f"{answer.describe()}: {expected}, found {fresh.describe()}"
    if maximum is not None:
        lifetime = fresh.lifetime_s
        assert lifetime <= maximum, f"{answer.describe()}: expected max-age <= {maximum} s, found {fresh.describe()}"


@pytest.mark.check("edge.cache-headers.mutable-short-lived")
def test_mutable_resources_are_short_lived_or_revalidated(mutable_resource: Resource, edge_http: httpx.Client, provider: Provider):
    """Mutable resources (``/@v/list``, ``/@latest``, API lists) are not stored, revalidated on every use, or kept no longer
    than the class's ``max_max_age``, by shared caches (s-maxage) and by clients (max-age) alike."""
    request_class = mutable_resource.request_class
    limit = request_class.max_max_age
    if limit is None:
        pytest.skip(f"request class {request_class.name} declares no max_max_age")
    answer = _served(get(edge_http, mutable_resource.endpoint, mutable_resource.url))
    fresh = freshness(answer.headers)
    cc = fresh.cache_control
    if not fresh.storable or cc.no_cache:
        return
    if not fresh.explicit:
        pytest.fail(f"{answer.describe()}: no Cache-Control lifetime nor Expires, so {provider.describe_default_ttl()}: "
                    f"expected max-age <= {limit} s or no-cache/no-store (class {request_class.name})")
    lifetimes = {"s-maxage": cc.s_maxage, "max-age": cc.max_age, fresh.source: fresh.lifetime_s}
    too_long = {name: value for name, value in lifetimes.items() if value is not None and value > limit}
    assert not too_long, (f"{answer.describe()}: {fresh.describe()}: expected at most {limit} s (class {request_class.name}), "
                          f"found {', '.join(f'{k}={v}' for k, v in too_long.items())}: a new version stays invisible that long")


@pytest.mark.check("edge.cache-headers.no-store")
def test_no_store_resources_forbid_storing(no_store_resource: Resource, edge_http: httpx.Client):
    """Resources of a ``no-store`` class (HTML pages marked ``no-store``) reach clients with ``no-store`` (or ``private``)."""
    answer = _served(get(edge_http, no_store_resource.endpoint, no_store_resource.url))
    cc = CacheControl.of(answer.headers)
    forbids = cc.no_store or cc.private
    assert forbids, f"{answer.describe()}: expected Cache-Control with no-store (class {no_store_resource.request_class.name}), found {cc}"


@pytest.mark.check("edge.cache-headers.vary-accept-encoding")
def test_compressed_answers_vary_on_accept_encoding(served_resource: Resource, edge_http: httpx.Client, record_property):
    """A compressed answer carries ``Vary: Accept-Encoding`` (RFC 9111 4.1), and a client that accepts no compression never
    gets a compressed variant out of the cache."""
    endpoint, url = served_resource.endpoint, served_resource.url
    compressed = _served(get(edge_http, endpoint, url, headers={"Accept-Encoding": "gzip"}))
    coding = content_coding(compressed.headers)
    plain = get(edge_http, endpoint, url, headers={"Accept-Encoding": "identity"})
    leaked = content_coding(plain.headers)
    assert leaked is None, (f"{plain.describe()}: sent 'Accept-Encoding: identity', got Content-Encoding: {leaked}: "
                            "a stored compressed variant reaches clients that did not ask for it (Vary missing at the edge)")
    if coding is None:
        record_property("compression", "none")
        return
    fields = vary(compressed.headers)
    assert "accept-encoding" in fields or "*" in fields, (
        f"{compressed.describe()}: Content-Encoding: {coding} with Vary: {', '.join(sorted(fields)) or '(none)'}: "
        "expected Vary to include Accept-Encoding")
