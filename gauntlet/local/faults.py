"""Fault profiles of the GOPROXY tier: named misconfigurations of the same real components.

Each profile is rendered into the nginx/HAProxy configurations
(``fixtures/local/*.j2``, look for ``faults``) and names the claims it must
break, so every check of those claims can be shown failing on it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """A named misconfiguration and the claim ids it breaks."""

    name: str
    tier: str
    description: str
    breaks: tuple[str, ...]


def _goproxy(name: str, description: str, *breaks: str) -> Fault:
    return Fault(name, "goproxy", description, breaks)


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        _goproxy(
            "edge-caches-list-forever",
            "the edge overrides /@v/list and /@latest with 'Cache-Control: public, max-age=31536000' "
            "and keeps them a year, so new versions never show through it",
            "athens-edge-lists-fresh",
        ),
        _goproxy(
            "edge-ignores-origin-cache-control",
            "the edge ignores the origin's Cache-Control and Expires and caches every answer, "
            "errors included, for a flat day (Front Door 'override always')",
            "athens-edge-honours-origin-headers",
            "athens-edge-lists-fresh",
        ),
        _goproxy(
            "edge-expired-cert",
            "the edge serves a certificate of the local CA that expired 30 days ago",
            "athens-edge-tls",
        ),
        _goproxy(
            "edge-legacy-tls",
            "the edge also accepts TLS 1.0 and 1.1 with OpenSSL security level 0 ciphers",
            "athens-edge-tls",
        ),
        _goproxy(
            "edge-strips-case-escapes",
            "a URL 'normalisation' rule at the edge drops the '!' of case-encoded paths, so "
            "github.com/!burnt!sushi/toml reaches the origin as github.com/burntsushi/toml and 404s",
            "athens-protocol",
        ),
        _goproxy(
            "replica-500",
            "replica-2 starts with its storage path misspelt and a catch-all try_files: every protocol "
            "path ends in an internal redirect cycle (500) while /healthz, which the load balancer checks, stays 200",
            "athens-protocol",
            "athens-replica-failover",
        ),
        _goproxy(
            "origin-404-as-403",
            "the replicas answer 403 instead of 404 for modules and versions they do not have (like a storage "
            "bucket without list permission), so the go command stops instead of falling back to the next proxy",
            "athens-protocol",
        ),
        _goproxy(
            "lb-no-healthcheck",
            "HAProxy balances blindly: no active health checks, no retries, no redispatch, so a dead replica "
            "keeps receiving its share of requests",
            "athens-replica-failover",
        ),
    )
}
