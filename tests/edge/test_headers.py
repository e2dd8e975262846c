"""Caching headers as a shared cache reads them, on real samples: the local edge, Athens, goproxy, Front Door, CloudFront."""

from __future__ import annotations

import httpx
import pytest

from gauntlet.edge.headers import CacheControl, age, content_coding, freshness, stack_trace, vary, version_banners, via_software

# Captured from the local nginx edge (https://127.0.0.1:8443), healthy, announcing Front Door's vocabulary.
LOCAL_IMMUTABLE_HIT = httpx.Headers([
    ("server", "nginx"), ("date", "Mon, 23 Nov 2026 09:31:53 GMT"), ("content-type", "application/json"),
    ("content-length", "50"), ("last-modified", "Mon, 23 Nov 2026 08:58:09 GMT"), ("etag", '"6b040021-32"'),
    ("age", "18"), ("strict-transport-security", "max-age=31536000"), ("x-cache", "TCP_HIT"),
    ("cache-control", "public, max-age=604800, immutable"), ("accept-ranges", "bytes"),
])
LOCAL_LIST = httpx.Headers([
    ("server", "nginx"), ("date", "Mon, 23 Nov 2026 09:31:53 GMT"), ("content-type", "text/plain"),
    ("cache-control", "no-cache, no-store, must-revalidate"), ("x-cache", "PRIVATE_NOSTORE"),
])
LOCAL_404 = httpx.Headers([
    ("server", "nginx"), ("date", "Mon, 23 Nov 2026 09:31:53 GMT"), ("content-type", "text/plain"),
    ("content-length", "10"), ("strict-transport-security", "max-age=31536000"), ("x-cache", "TCP_MISS"),
])
# CloudFront's documented response headers on a cached object (Developer Guide, "Adding response headers").
CLOUDFRONT_HIT = httpx.Headers([
    ("content-type", "image/png"), ("cache-control", "max-age=31536000"), ("date", "Tue, 10 Sep 2024 08:00:00 GMT"),
    ("x-cache", "Hit from cloudfront"), ("via", "1.1 3f7f5d0f3a2c1b9e.cloudfront.net (CloudFront)"),
    ("x-amz-cf-pop", "FRA56-P5"), ("x-amz-cf-id", "k3DA1r0mAn9Id=="), ("age", "5312"),
])


@pytest.mark.parametrize(("value", "lifetime", "storable", "no_cache"), [
    ("no-cache, no-store, must-revalidate", None, False, True),   # Athens on @v/list and @latest
    ("public, max-age=604800", 604800, True, False),              # goproxy on .info/.mod/.zip
    ("public, max-age=60", 60, True, False),                      # goproxy on lists and queries
    ("public, max-age=604800, immutable", 604800, True, False),   # the local edge on immutable artefacts
    ("no-store, no-cache, must-revalidate", None, False, True),   # Artifact Hub's index.html
    ("max-age=31536000", 31536000, True, False),                  # Artifact Hub's /static/ assets
    ("public, max-age=3600, s-maxage=60", 60, True, False),       # s-maxage wins for a shared cache
    ("private, max-age=600", 600, False, False),
    ('private="Set-Cookie", max-age=300', 300, True, False),      # a qualified private only names fields
    ('no-cache="Set-Cookie, X-Trace", max-age=30', 30, True, False),
    ("Max-Age=10, PUBLIC", 10, True, False),                      # names are case-insensitive
    ("max-age=abc", 0, True, False),                              # invalid: treated as stale
    ('max-age="120"', 120, True, False),                          # quoted-string argument
    ("max-age=10, max-age=20", 10, True, False),                  # the first of a repeated directive
])
def test_cache_control_freshness(value, lifetime, storable, no_cache):
    fresh = freshness({"cache-control": value})
    assert (fresh.lifetime_s, fresh.storable, fresh.cache_control.no_cache) == (lifetime, storable, no_cache)


def test_repeated_cache_control_fields_combine():
    headers = httpx.Headers([("cache-control", "public"), ("cache-control", "max-age=60")])
    cc = CacheControl.of(headers)
    assert cc.public and cc.max_age == 60
    assert str(cc) == "public, max-age=60"


def test_quoted_commas_do_not_split_directives():
    cc = CacheControl.parse('private="Set-Cookie, Authorization", s-maxage=5, stale-while-revalidate=30')
    assert cc.argument("private") == "Set-Cookie, Authorization" and not cc.private
    assert cc.s_maxage == 5 and cc.seconds("stale-while-revalidate") == 30


def test_expires_gives_the_lifetime_without_max_age():
    headers = {"date": "Mon, 23 Nov 2026 09:31:53 GMT", "expires": "Mon, 23 Nov 2026 09:32:53 GMT"}
    assert (freshness(headers).lifetime_s, freshness(headers).source) == (60, "Expires")
    assert freshness({"expires": "0"}).lifetime_s == 0, "an invalid Expires means already expired (RFC 9111 5.3)"
    assert freshness({"cache-control": "max-age=5", "expires": "Mon, 23 Nov 2026 09:32:53 GMT"}).source == "max-age"


def test_local_edge_samples():
    hit = freshness(LOCAL_IMMUTABLE_HIT)
    assert hit.lifetime_s == 604800 and hit.cache_control.immutable and age(LOCAL_IMMUTABLE_HIT) == 18
    listed = freshness(LOCAL_LIST)
    assert not listed.storable and listed.revalidate_each_time and age(LOCAL_LIST) is None
    error = freshness(LOCAL_404)
    assert error.storable and not error.explicit and error.cache_control.empty
    assert error.describe() == "Cache-Control: (none) (no explicit lifetime)"


def test_cloudfront_sample():
    assert freshness(CLOUDFRONT_HIT).lifetime_s == 31536000 and age(CLOUDFRONT_HIT) == 5312


@pytest.mark.parametrize(("values", "expected"), [(["18"], 18), (["0"], 0), (["12, 13"], 12), (["abc"], None), (["-1"], None), ([], None)])
def test_age(values, expected):
    assert age(httpx.Headers([("age", v) for v in values])) == expected


def test_vary_and_content_coding():
    headers = httpx.Headers([("vary", "Accept-Encoding, Origin"), ("content-encoding", "gzip")])
    assert vary(headers) == {"accept-encoding", "origin"} and content_coding(headers) == "gzip"
    assert content_coding({"content-encoding": "identity"}) is None and vary({}) == frozenset()


@pytest.mark.parametrize(("headers", "found"), [
    ({"server": "nginx"}, []),                                   # server_tokens off, as at the local edge
    ({"server": "CloudFront"}, []),
    ({"server": "nginx/1.22.1"}, ["Server: nginx/1.22.1"]),
    ({"server": "Apache/2.4.57 (Debian)"}, ["Server: Apache/2.4.57 (Debian)"]),
    ({"x-powered-by": "Express"}, ["X-Powered-By: Express"]),
    ({"Server-Version": "athens v0.14.1"}, ["Server-Version: athens v0.14.1"]),
])
def test_version_banners(headers, found):
    assert version_banners(httpx.Headers(headers), ("Server-Version", "X-Powered-By")) == found


@pytest.mark.parametrize(("via", "found"), [
    ("1.1 3f7f5d0f3a2c1b9e.cloudfront.net (CloudFront)", []),  # CloudFront's: a pseudonym and a product, no version
    ("HTTP/2 edge, 1.1 origin", []),  # the received protocol's version is no software version
    ("1.1 edge (nginx/1.22.1)", ["1.1 edge (nginx/1.22.1)"]),
    ("1.0 fred, 1.1 p.example.net (Varnish/6.0)", ["1.1 p.example.net (Varnish/6.0)"]),
])
def test_via_entries_naming_a_software_version(via, found):
    assert via_software(httpx.Headers({"via": via})) == found


def test_stack_traces_are_recognised():
    assert stack_trace("not found\n") is None
    assert stack_trace("Traceback (most recent call last):\n  File \"app.py\"") == "Traceback (most recent call last)"
    assert stack_trace("panic: runtime error: invalid memory address\n\ngoroutine 1 [running]:") == "goroutine"
