"""WAF rate limiting at the edge: a bounded burst above the declared rate is blocked, then traffic recovers.

Seed 004: "both CloudFront and the load balancer have associated a set of web ACLs rules to rate
limit and block certain traffic patterns". Sent only where the environment opts in
(``cdn.waf.burst_check``) and its chaos policy allows disruptive probes (``chaos.allowed``):
the burst gets this host blocked for a while. Bounded by ``cdn.waf.max_requests`` and ``within_s``.

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import httpx
import pytest

from gauntlet.edge import waf as probes
from gauntlet.edge.client import get
from gauntlet.edge.targets import base_url
from gauntlet.environment import Cdn, Endpoint, Environment


@pytest.mark.check("edge.waf.burst-blocked")
def test_burst_above_the_rate_is_blocked_then_traffic_recovers(cdn_edge: Endpoint, cdn: Cdn, environment: Environment,
                                                               edge_http: httpx.Client, record_property):
    """More than ``cdn.waf.rate_limit`` requests in its window get a blocked status (429/403); within
    ``recover_within_s`` a normal request is served again."""
    waf = cdn.waf
    if waf is None or not waf.burst_check:
        pytest.skip(f"environment {environment.name} does not opt in to a WAF burst (cdn.waf.burst_check): "
                    "the rate limit is not probed from outside")
    if not environment.chaos.allowed:
        pytest.skip(f"environment {environment.name}'s chaos policy forbids disruptive probes (chaos.allowed: false): "
                    "no burst is sent")
    url = base_url(cdn_edge) + waf.path
    fetch = lambda: get(edge_http, cdn_edge, url)  # noqa: E731
    burst = probes.burst(fetch, max_requests=waf.max_requests, within_s=waf.within_s, blocked_status=waf.blocked_status)
    record_property("waf_burst", burst)
    assert burst["blocked_after"] is not None, (
        f"GET {url}: {burst['sent']} requests in {burst['seconds']} s were never blocked (statuses {burst['statuses']}): "
        f"expected {'/'.join(map(str, waf.blocked_status))} above {waf.rate_limit} requests per {waf.window_s} s (cdn.waf.rate_limit)")
    if not waf.recover_within_s:
        record_property("waf_recovery", "not awaited (cdn.waf.recover_within_s: 0)")
        return
    recovery = probes.recovery(fetch, within_s=waf.recover_within_s, interval_s=min(5.0, max(0.5, waf.recover_within_s / 10)),
                               blocked_status=waf.blocked_status)
    record_property("waf_recovery", recovery)
    assert recovery["recovered_after_s"] is not None, (
        f"GET {url}: still blocked {waf.recover_within_s} s after the burst (last answer: {recovery['last']}): "
        "expected normal traffic to be served again (cdn.waf.recover_within_s)")
