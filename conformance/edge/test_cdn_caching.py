"""The CDN really caches, in its provider's own words, and keeps nothing longer than it may.

Cache status comes from the provider's vocabulary (``gauntlet.edge.providers``: Front Door
``X-Cache: TCP_HIT``, CloudFront ``Hit from cloudfront``), ages from ``Age`` (RFC 9111 5.1).
Waits are bounded by ``cdn.max_wait_s``; a refresh due later than that is not-checked, with why.
Seeds: Front Door caches "module ZIP files so my poor little Athens instances don't have to serve
them up over and over again" (001); lathens is to "cache the /list and /latest API calls" (000);
CloudFront "caches accordingly to the origin cache headers" (004).

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from gauntlet.answers import Fetched
from gauntlet.edge.client import get, until_served, with_query
from gauntlet.edge.headers import age, freshness
from gauntlet.edge.providers import Provider
from gauntlet.edge.targets import Resource
from gauntlet.environment import Cdn

SLACK_S = 2  # Age has one-second resolution; the edge and this host may round differently


def _status(provider: Provider, answer: Fetched) -> str:
    value = answer.headers.get(provider.status_header or "", None)
    seen = f"{provider.status_header}: {value}" if value is not None else f"no {provider.status_header} header"
    found_age = age(answer.headers)
    return seen + (f", Age: {found_age}" if found_age is not None else "")


def _busting(cdn: Cdn, provider: Provider) -> bool:
    return cdn.query_in_cache_key if cdn.query_in_cache_key is not None else provider.query_in_cache_key


def _filled(resource: Resource, edge_http: httpx.Client, url: str) -> Fetched:
    served, last = until_served(lambda: get(edge_http, resource.endpoint, url))
    if served is None:
        pytest.skip(f"{last.describe()}: never answered 2xx in 3 tries, so there is nothing to cache "
                    "(what the edge serves is the protocol checks' business)")
    return served


@pytest.mark.check("edge.cdn.second-request-hits")
def test_second_request_is_a_cache_hit(immutable_resource: Resource, edge_http: httpx.Client, provider: Provider, cdn: Cdn,
                                       record_property):
    """After one request has filled it, the edge serves an immutable artefact from its cache: a hit in the provider's
    vocabulary. Where the edge keys on the query (``cdn.query_in_cache_key``) a unique query makes the first a miss."""
    busting = _busting(cdn, provider)
    url = with_query(immutable_resource.url, "gauntlet-cache-probe", uuid.uuid4().hex) if busting else immutable_resource.url
    first = _filled(immutable_resource, edge_http, url)
    second = get(edge_http, immutable_resource.endpoint, url)
    record_property("cache_status", [_status(provider, first), _status(provider, second)])
    hits = ", ".join(sorted(provider.hit)).upper() if provider.name == "front-door" else "Hit/RefreshHit from cloudfront"
    state = provider.cache_state(second.headers)
    assert state == "hit", (
        f"{second.describe()}: expected {provider.label} to serve the second request from its cache ({hits}), found "
        f"{_status(provider, second)} (first request: {_status(provider, first)}): every request reaches the origin")


@pytest.mark.check("edge.cdn.age-grows")
def test_age_grows_between_hits(age_resource: Resource, edge_http: httpx.Client, provider: Provider, cdn: Cdn):
    """Two hits 1.1 s apart report an ``Age`` at least 1 s apart: the answer really is one stored copy growing older."""
    url = with_query(age_resource.url, "gauntlet-age-probe", uuid.uuid4().hex) if _busting(cdn, provider) else age_resource.url
    _filled(age_resource, edge_http, url)
    first = get(edge_http, age_resource.endpoint, url)
    first_age = age(first.headers)
    if first_age is None:
        if provider.sends_age:
            pytest.fail(f"{first.describe()}: {_status(provider, first)}: expected an Age header, "
                        f"{provider.label} sends one on cached answers")
        pytest.skip(f"{first.describe()}: no Age header ({provider.label} documents none); the hit check judges caching")
    time.sleep(1.1)
    second = get(edge_http, age_resource.endpoint, url)
    second_age = age(second.headers)
    grew = provider.cache_state(second.headers) == "hit" and second_age is not None and second_age >= first_age + 1
    assert grew, (
        f"{second.describe()}: expected a hit whose Age grew by at least 1 s in 1.1 s, found Age {first_age} then "
        f"{_status(provider, second)}")


@pytest.mark.check("edge.cdn.mutable-fresh-within-ttl")
def test_mutable_resource_is_refreshed_within_its_ttl(mutable_resource: Resource, edge_http: httpx.Client, provider: Provider,
                                                      cdn: Cdn, record_property):
    """Through the edge, a mutable resource is never older than its class's ``max_max_age``: if the edge serves it from
    cache, its Age stays within that TTL, its own lifetime is no longer, and (when due within ``cdn.max_wait_s``) a
    request after the lifetime is fresh again. The plain URL is used: its staleness is what clients see."""
    ttl = mutable_resource.request_class.max_max_age
    if ttl is None:
        pytest.skip(f"request class {mutable_resource.request_class.name} declares no max_max_age")
    endpoint, url = mutable_resource.endpoint, mutable_resource.url
    _filled(mutable_resource, edge_http, url)
    second = get(edge_http, endpoint, url)
    record_property("cache_status", _status(provider, second))
    if provider.cache_state(second.headers) != "hit":
        return  # not served from the cache: fresh on every request
    fresh, served_age = freshness(second.headers), age(second.headers)
    where = f"{second.describe()}: {_status(provider, second)}"
    if not fresh.storable and not provider.is_revalidated(second.headers):
        pytest.fail(f"{where}: served from the edge's cache although it says {fresh.cache_control}: clients get a stored copy "
                    f"of unknown age, expected a fresh answer (at most {ttl} s old)")
    if served_age is not None:
        assert served_age <= ttl + SLACK_S, (
            f"{where}: served {served_age} s old, expected at most {ttl} s (class {mutable_resource.request_class.name})")
    lifetime = fresh.lifetime_s
    if lifetime is None:
        default = provider.default_ttl_s
        lifetime = default[1] if default else None
        kept = provider.describe_default_ttl()
    else:
        kept = f"it may keep it {lifetime} s by {fresh.describe()}"
    if lifetime is None or lifetime > ttl:
        pytest.fail(f"{where}: {kept}: expected a refresh within {ttl} s (class {mutable_resource.request_class.name}); "
                    "a new version stays invisible until then")
    due = max(0, lifetime - (served_age or 0)) + SLACK_S
    if due > cdn.max_wait_s:
        pytest.skip(f"{where}: stored for up to {lifetime} s (<= {ttl} s by its headers); its refresh is due in {due} s, "
                    f"longer than this run may wait (cdn.max_wait_s: {cdn.max_wait_s})")
    time.sleep(due)
    third = get(edge_http, endpoint, url)
    third_age = age(third.headers)
    refreshed = provider.cache_state(third.headers) != "hit" or (third_age is not None and third_age <= lifetime)
    assert refreshed, f"{third.describe()}: {_status(provider, third)} {due} s later: expected a refresh after its {lifetime} s lifetime"


@pytest.mark.check("edge.cdn.no-store-never-hits")
def test_answers_marked_no_store_are_never_served_from_cache(short_lived_resource: Resource, edge_http: httpx.Client,
                                                             provider: Provider):
    """An answer that says ``no-store`` or ``private`` is never a hit (RFC 9111 5.2.2.5, 5.2.2.7; Front Door answers
    PRIVATE_NOSTORE): the edge follows the origin's Cache-Control instead of overriding it."""
    endpoint, url = short_lived_resource.endpoint, short_lived_resource.url
    _filled(short_lived_resource, edge_http, url)
    second = get(edge_http, endpoint, url)
    fresh = freshness(second.headers)
    if fresh.storable:
        pytest.skip(f"{second.describe()}: {fresh.describe()}: it may be stored, so the lifetime checks judge it")
    state = provider.cache_state(second.headers)
    assert state != "hit", (
        f"{second.describe()}: {_status(provider, second)} although it says {fresh.cache_control}: "
        "the edge stores what the origin forbids it to store")


@pytest.mark.check("edge.cdn.error-ttl-bounded")
def test_errors_are_not_cached_beyond_the_error_ttl(error_resource: Resource, edge_http: httpx.Client, provider: Provider,
                                                    cdn: Cdn, record_property):
    """An error (4xx/5xx) is kept no longer than ``cdn.error_max_ttl``: by its own Cache-Control, by the Age it is served
    with, and, when the edge stores it without Cache-Control, by the provider's default (Front Door: 1-3 days)."""
    endpoint, url, limit = error_resource.endpoint, error_resource.url, cdn.error_max_ttl
    first = get(edge_http, endpoint, url)
    if first.status < 400:
        pytest.skip(f"{first.describe()}: not an error; the class {error_resource.request_class.name} lists paths that answer 4xx/5xx")
    second = get(edge_http, endpoint, url)
    fresh, served_age = freshness(second.headers), age(second.headers)
    stored = provider.cache_state(second.headers) == "hit" or served_age is not None
    record_property("cache_status", [_status(provider, first), _status(provider, second)])
    where = f"{second.describe()}: {_status(provider, second)}"
    cc = fresh.cache_control
    lifetimes = {k: v for k, v in {"s-maxage": cc.s_maxage, "max-age": cc.max_age, fresh.source: fresh.lifetime_s}.items() if v is not None}
    too_long = {k: v for k, v in lifetimes.items() if v > limit}
    kept_too_long = fresh.storable and bool(too_long)
    assert not kept_too_long, (
        f"{where}: {fresh.describe()}: expected errors kept at most {limit} s (cdn.error_max_ttl), found "
        f"{', '.join(f'{k}={v}' for k, v in too_long.items())}")
    if not stored:
        return
    assert served_age is None or served_age <= limit + SLACK_S, f"{where}: an error served {served_age} s old, expected at most {limit} s"
    if not fresh.explicit and fresh.storable:
        default = provider.error_default_ttl_s
        within = default is not None and default[1] <= limit
        assert within, (
            f"{where}: the edge stores this error with no Cache-Control lifetime, so {provider.describe_default_ttl(error=True)}: "
            f"expected at most {limit} s (cdn.error_max_ttl): send 'Cache-Control: max-age={limit}' (or no-store) with errors")
