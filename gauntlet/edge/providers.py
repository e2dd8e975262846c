"""What each CDN provider says about its cache, in its own words: the one table the edge suite reads.

Sources (see ../shared/research/goproxy-and-cdn-facts.md):

- Azure Front Door / Azure CDN from Microsoft, "Debug HTTP headers" and "Caching with Azure Front
  Door": ``X-Cache: TCP_HIT | TCP_REMOTE_HIT | TCP_MISS | PRIVATE_NOSTORE | CONFIG_NOCACHE | N/A``;
  TTL from ``s-maxage``, then ``max-age``, then ``Expires``; without any of them an answer is kept
  for a random 1-3 days (so a 404 or 301 without Cache-Control can stick for days). The route's
  query-string caching behaviour defaults to "Ignore Query String". No ``Age`` header is documented.
- Amazon CloudFront, "Adding response headers", "Manage how long content stays in the cache" and
  "How CloudFront processes HTTP 4xx and 5xx status codes": ``X-Cache: Hit | RefreshHit | Miss |
  Error | Redirect | LimitExceeded | FunctionGeneratedResponse | LambdaGeneratedResponse from
  cloudfront`` plus ``Age`` on cached answers; default TTL 86400 s without origin headers; errors
  cached 10 s by default (the error caching minimum TTL); query strings are in the cache key only
  when the cache policy says so (CachingOptimized: not).

Cache-busting: a unique query string gives a fresh cache entry only where the query is part of the
cache key. Neither provider keys on it by default, so the suite busts only when the environment
says its edge does (``cdn.query_in_cache_key: true``, e.g. the local nginx edge, which keys on
the full request URI); elsewhere it requests the plain path and accepts a first answer that is
already a hit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

CacheState = Literal["hit", "miss", "not-cacheable", "other", "absent"]


@dataclass(frozen=True)
class Provider:
    """One CDN's cache vocabulary and documented defaults."""

    name: str
    label: str
    status_header: str | None
    hit: frozenset[str]
    revalidated: frozenset[str]
    miss: frozenset[str]
    not_cacheable: frozenset[str]
    sends_age: bool
    default_ttl_s: tuple[int, int] | None
    error_default_ttl_s: tuple[int, int] | None
    query_in_cache_key: bool
    default_ttl_text: str
    error_ttl_text: str

    def cache_state(self, headers: Mapping[str, str]) -> CacheState:
        """hit, miss, not-cacheable, other (a value outside the vocabulary) or absent (no status header)."""
        if self.status_header is None:
            return "absent"
        value = _get(headers, self.status_header)
        if value is None:
            return "absent"
        token = _normalise(value)
        if token in self.hit:
            return "hit"
        if token in self.miss:
            return "miss"
        if token in self.not_cacheable:
            return "not-cacheable"
        return "other"

    def is_revalidated(self, headers: Mapping[str, str]) -> bool:
        """A hit the edge revalidated with the origin first (CloudFront ``RefreshHit``)."""
        value = _get(headers, self.status_header) if self.status_header else None
        return value is not None and _normalise(value) in self.revalidated

    def describe_default_ttl(self, error: bool = False) -> str:
        """How long the provider keeps an answer that has no Cache-Control lifetime, in words."""
        return f"{self.label} keeps it {self.error_ttl_text if error else self.default_ttl_text}"


def _get(headers: Mapping[str, str], name: str) -> str | None:
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _normalise(value: str) -> str:
    """``Hit from cloudfront`` -> ``hit``; ``TCP_HIT`` -> ``tcp_hit``: the comparable token."""
    token = value.strip().split(",")[0].strip().lower()
    return token.removesuffix(" from cloudfront").strip()


PROVIDERS: dict[str, Provider] = {
    "front-door": Provider(
        name="front-door",
        label="Azure Front Door",
        status_header="X-Cache",
        hit=frozenset({"tcp_hit", "tcp_remote_hit"}),
        revalidated=frozenset(),
        miss=frozenset({"tcp_miss"}),
        not_cacheable=frozenset({"private_nostore", "config_nocache", "n/a"}),
        sends_age=False,
        default_ttl_s=(86400, 3 * 86400),
        error_default_ttl_s=(86400, 3 * 86400),
        query_in_cache_key=False,
        default_ttl_text="a random 1 to 3 days (its default without Cache-Control or Expires)",
        error_ttl_text="a random 1 to 3 days (its default without Cache-Control or Expires, errors included)",
    ),
    "cloudfront": Provider(
        name="cloudfront",
        label="CloudFront",
        status_header="X-Cache",
        hit=frozenset({"hit", "refreshhit"}),
        revalidated=frozenset({"refreshhit"}),
        miss=frozenset({"miss"}),
        not_cacheable=frozenset({"error", "redirect", "limitexceeded", "capacityexceeded",
                                 "functiongeneratedresponse", "lambdageneratedresponse"}),
        sends_age=True,
        default_ttl_s=(86400, 86400),
        error_default_ttl_s=(10, 10),
        query_in_cache_key=False,
        default_ttl_text="86400 s (its default TTL without Cache-Control or Expires)",
        error_ttl_text="10 s (its default error caching minimum TTL)",
    ),
}


def provider(name: str) -> Provider | None:
    """The table row for an environment's ``cdn.provider``; None for ``none``."""
    return PROVIDERS.get(name)
