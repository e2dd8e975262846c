"""The provider vocabulary table: each documented X-Cache value means what its provider says it means."""

from __future__ import annotations

import httpx
import pytest

from gauntlet.edge.providers import PROVIDERS, provider


@pytest.mark.parametrize(("name", "x_cache", "state"), [
    # Azure Front Door / Azure CDN from Microsoft, "Debug HTTP headers"
    ("front-door", "TCP_HIT", "hit"),
    ("front-door", "TCP_REMOTE_HIT", "hit"),
    ("front-door", "TCP_MISS", "miss"),
    ("front-door", "PRIVATE_NOSTORE", "not-cacheable"),
    ("front-door", "CONFIG_NOCACHE", "not-cacheable"),
    ("front-door", "N/A", "not-cacheable"),
    ("front-door", "Hit from cloudfront", "other"),
    # CloudFront, "Adding response headers" / X-Edge-Result-Type
    ("cloudfront", "Hit from cloudfront", "hit"),
    ("cloudfront", "RefreshHit from cloudfront", "hit"),
    ("cloudfront", "Miss from cloudfront", "miss"),
    ("cloudfront", "Error from cloudfront", "not-cacheable"),
    ("cloudfront", "Redirect from cloudfront", "not-cacheable"),
    ("cloudfront", "LimitExceeded from cloudfront", "not-cacheable"),
    ("cloudfront", "FunctionGeneratedResponse from cloudfront", "not-cacheable"),
    ("cloudfront", "TCP_HIT", "other"),
])
def test_cache_state_in_the_providers_own_words(name, x_cache, state):
    assert PROVIDERS[name].cache_state(httpx.Headers({"X-Cache": x_cache})) == state


def test_absent_status_header_and_case():
    front_door = PROVIDERS["front-door"]
    assert front_door.cache_state(httpx.Headers({"Age": "3"})) == "absent"
    assert front_door.cache_state({"x-cache": "tcp_hit"}) == "hit", "header names and values compare case-insensitively"


def test_refresh_hit_is_a_revalidated_hit():
    cloudfront = PROVIDERS["cloudfront"]
    assert cloudfront.is_revalidated({"X-Cache": "RefreshHit from cloudfront"})
    assert not cloudfront.is_revalidated({"X-Cache": "Hit from cloudfront"})
    assert not PROVIDERS["front-door"].is_revalidated({"X-Cache": "TCP_HIT"})


def test_documented_defaults():
    front_door, cloudfront = PROVIDERS["front-door"], PROVIDERS["cloudfront"]
    assert front_door.error_default_ttl_s == (86400, 3 * 86400), "a 404 without Cache-Control sticks at Front Door for days"
    assert cloudfront.error_default_ttl_s == (10, 10) and cloudfront.default_ttl_s == (86400, 86400)
    assert not front_door.query_in_cache_key and not cloudfront.query_in_cache_key
    assert cloudfront.sends_age and not front_door.sends_age
    assert front_door.describe_default_ttl(error=True).startswith("Azure Front Door keeps it a random 1 to 3 days")
    assert provider("none") is None
