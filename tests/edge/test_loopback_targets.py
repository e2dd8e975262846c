"""The edge suite against small targets on loopback: an HTTP-only site, nothing listening, a rate-limiting edge.

Each runs the real ``gauntlet conformance ENV --suite edge`` on a test environment written here;
nothing but 127.0.0.1 is contacted. Verdicts must carry the observation, and the harness must never
crash on a target that does not answer.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from gauntlet import paths

pytestmark = pytest.mark.slow  # each runs the suite in a pytest subprocess


def run_edge_suite(env_dir: Path, env: dict) -> tuple[dict, subprocess.CompletedProcess]:
    (env_dir / f"{env['name']}.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "conformance", env["name"], "--suite", "edge", "--json"],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=300)
    assert proc.stdout, proc.stderr[-3000:]
    assert "INTERNALERROR" not in proc.stderr and "Traceback (most recent call last)" not in proc.stderr, proc.stderr[-3000:]
    return json.loads(proc.stdout), proc


def claim(out: dict, claim_id: str) -> dict:
    return next(c for c in out["claims"] if c["id"] == claim_id)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PlainSite(BaseHTTPRequestHandler):
    """castle's www tier as its seed describes it: a page over plain HTTP, no redirect."""

    def do_GET(self) -> None:
        body = b"<html><body>castle www</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class RateLimited(PlainSite):
    """A WAF-like rate-based rule: more than LIMIT requests in a window get 429 for BLOCK_S seconds."""

    LIMIT, BLOCK_S = 20, 1.5
    lock = threading.Lock()
    count, blocked_until = 0, 0.0

    def do_GET(self) -> None:
        cls = type(self)
        with cls.lock:
            cls.count += 1
            if cls.count > cls.LIMIT and cls.blocked_until == 0.0:
                cls.blocked_until = time.monotonic() + cls.BLOCK_S
            blocked = time.monotonic() < cls.blocked_until
        if blocked:
            self.send_response(429)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


class ShortLivedList(BaseHTTPRequestHandler):
    """An edge keeping a version list 2 s (``max-age=2``), announcing hits like Front Door, with Age."""

    TTL_S = 2
    stored_at: float | None = None

    def refreshes(self) -> bool:
        return True

    def do_GET(self) -> None:
        cls, now = type(self), time.monotonic()
        if cls.stored_at is None or (self.refreshes() and now - cls.stored_at >= cls.TTL_S):
            cls.stored_at, status, stored_age = now, "TCP_MISS", None
        else:
            status, stored_age = "TCP_HIT", int(now - cls.stored_at)
        body = b"v1.0.0\nv1.1.0\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Cache-Control", f"public, max-age={cls.TTL_S}")
        self.send_header("X-Cache", status)
        if stored_age is not None:
            self.send_header("Age", str(stored_age))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class NeverRefreshedList(ShortLivedList):
    """The same edge, but it keeps serving its stored copy past the 2 s it announces."""

    def refreshes(self) -> bool:
        return False


@pytest.fixture
def server(request) -> Iterator[str]:
    handler = request.param
    if handler is RateLimited:
        RateLimited.count, RateLimited.blocked_until = 0, 0.0
    if issubclass(handler, ShortLivedList):
        handler.stored_at = None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("server", [PlainSite], indirect=True)
def test_http_only_site_is_a_known_risk_with_its_observation(env_dir, server, shipped_claim):
    """castle: "The only supported protocol for the service is HTTP." The report shows it as a violated known risk,
    with what was seen: a page over plain HTTP and nothing on HTTPS."""
    env = {"name": "castle-loopback", "description": "castle's www tier on loopback",
           "endpoints": [{"name": "www", "url": server, "role": "edge", "http2": False, "timeout_s": 2}],
           "cdn": {"provider": "none"},
           "claims": [shipped_claim("castle-http-only", "conformance:edge")]}
    out, proc = run_edge_suite(env_dir, env)
    http_only = claim(out, "castle-http-only")
    assert (http_only["verdict"], http_only["known_risk"], http_only["expected"]) == ("violated", True, True), http_only
    evidence = "\n".join(http_only["evidence"])
    assert f"GET {server}/?gauntlet-redirect-probe=1: 200 text/html" in evidence and "served over plain HTTP" in evidence, evidence
    assert "GET https://127.0.0.1/: ConnectError" in evidence and "declares no tls section: HTTP only" in evidence, evidence
    assert proc.returncode == 0, "a known risk's violation is expected: it must not fail the run"
    report = Path(out["report"])
    html = (report / "index.html" if report.is_dir() else report).read_text()
    assert "known risk" in html and "castle-http-only" in html


def test_nothing_listening_gives_violations_naming_the_connection_error(env_dir, shipped_claim):
    https_port, http_port = closed_port(), closed_port()
    env = {
        "name": "edge-unreachable", "description": "an edge where nothing listens, on loopback",
        "endpoints": [
            {"name": "edge", "url": f"https://127.0.0.1:{https_port}", "role": "edge", "server_name": "goproxy.gauntlet.localhost",
             "timeout_s": 1},
            {"name": "edge-http", "url": f"http://127.0.0.1:{http_port}", "role": "edge", "http2": False, "timeout_s": 1},
        ],
        "tls": {"hosts": ["goproxy.gauntlet.localhost"]},
        "cdn": {"provider": "front-door", "query_in_cache_key": True, "request_classes": [
            {"name": "module-artefacts", "paths": ["/github.com/pkg/errors/@v/v0.9.1.zip"], "cache": "immutable", "min_max_age": 86400},
            {"name": "module-lists", "paths": ["/github.com/pkg/errors/@v/list"], "cache": "mutable", "max_max_age": 60},
            {"name": "errors", "paths": ["/example.com/gauntlet/no-such-module/@v/list"], "cache": "error"},
        ]},
        "claims": [shipped_claim(c, "conformance:edge") for c in ("athens-edge-tls", "athens-edge-caches-modules",
                                                                    "athens-edge-lists-fresh", "athens-edge-honours-origin-headers")],
    }
    started = time.monotonic()
    out, proc = run_edge_suite(env_dir, env)
    assert proc.returncode == 1, f"violations must fail the run (exit 1), got {proc.returncode}"
    assert time.monotonic() - started < 120
    tls = "\n".join(claim(out, "athens-edge-tls")["evidence"])
    assert f"TLS 127.0.0.1:{https_port} (SNI goproxy.gauntlet.localhost): ServerRejectedConnection" in tls, tls
    assert f"GET http://127.0.0.1:{http_port}/github.com/pkg/errors/@v/v0.9.1.zip?gauntlet-redirect-probe=1: ConnectError" in tls, tls
    for claim_id in ("athens-edge-caches-modules", "athens-edge-lists-fresh", "athens-edge-honours-origin-headers"):
        found = claim(out, claim_id)
        assert found["verdict"] == "violated", found
        evidence = "\n".join(found["evidence"])
        assert f"GET https://127.0.0.1:{https_port}/" in evidence and "ConnectError" in evidence, found


def _waf_env(url: str, claim: dict, **waf) -> dict:
    return {"name": "waf-loopback", "description": "a rate-limiting edge on loopback",
            "endpoints": [{"name": "edge", "url": url, "role": "edge", "http2": False, "timeout_s": 2}],
            "cdn": {"provider": "cloudfront", "waf": {"rate_limit": 20, "window_s": 60, "burst_check": True, "max_requests": 40,
                                                      "within_s": 10, "recover_within_s": 5, **waf}},
            "chaos": {"allowed": True, "confirm": False},
            "claims": [claim]}


@pytest.mark.parametrize("server", [RateLimited], indirect=True)
def test_rate_limited_edge_blocks_the_burst_and_recovers(env_dir, server, shipped_claim):
    out, _ = run_edge_suite(env_dir, _waf_env(server, shipped_claim("ah-waf-rate-limits", "conformance:edge")))
    assert claim(out, "ah-waf-rate-limits")["verdict"] == "verified", claim(out, "ah-waf-rate-limits")


@pytest.mark.parametrize("server", [PlainSite], indirect=True)
def test_edge_without_rate_limit_is_a_violation_within_the_bound(env_dir, server, shipped_claim):
    out, _ = run_edge_suite(env_dir, _waf_env(server, shipped_claim("ah-waf-rate-limits", "conformance:edge")))
    evidence = "\n".join(claim(out, "ah-waf-rate-limits")["evidence"])
    assert f"GET {server}/: 40 requests in" in evidence and "were never blocked (statuses {'200': 40})" in evidence, evidence


def test_waf_burst_is_not_sent_without_the_chaos_policy(env_dir, shipped_claim):
    env = _waf_env(f"http://127.0.0.1:{closed_port()}", shipped_claim("ah-waf-rate-limits", "conformance:edge"))
    env["chaos"] = {"allowed": False}
    out, _ = run_edge_suite(env_dir, env)
    waf = claim(out, "ah-waf-rate-limits")
    assert waf["verdict"] == "not-checked" and "chaos.allowed: false" in "\n".join(waf["evidence"]), waf


def _list_env(url: str, max_wait_s: int, claim: dict) -> dict:
    return {"name": "lists-loopback", "description": "an edge caching version lists briefly, on loopback",
            "endpoints": [{"name": "edge", "url": url, "role": "edge", "http2": False, "timeout_s": 2}],
            "cdn": {"provider": "front-door", "max_wait_s": max_wait_s, "request_classes": [
                {"name": "module-lists", "paths": ["/github.com/pkg/errors/@v/list"], "cache": "mutable", "max_max_age": 5}]},
            "claims": [claim]}


def _refresh_evidence(out: dict) -> str:
    return "\n".join(e for e in claim(out, "athens-edge-lists-fresh")["evidence"] if "refreshed_within_its_ttl" in e)


@pytest.mark.parametrize("server", [ShortLivedList], indirect=True)
def test_a_list_cached_briefly_is_seen_refreshed_within_its_ttl(env_dir, server, shipped_claim):
    out, _ = run_edge_suite(env_dir, _list_env(server, 10, shipped_claim("athens-edge-lists-fresh", "conformance:edge")))
    lists = claim(out, "athens-edge-lists-fresh")
    assert lists["verdict"] == "verified" and ": passed" in _refresh_evidence(out), lists


@pytest.mark.parametrize("server", [NeverRefreshedList], indirect=True)
def test_a_list_served_past_its_lifetime_is_a_violation(env_dir, server, shipped_claim):
    out, _ = run_edge_suite(env_dir, _list_env(server, 10, shipped_claim("athens-edge-lists-fresh", "conformance:edge")))
    evidence = _refresh_evidence(out)
    assert claim(out, "athens-edge-lists-fresh")["verdict"] == "violated"
    assert f"GET {server}/github.com/pkg/errors/@v/list: 200 text/plain" in evidence and "X-Cache: TCP_HIT, Age: " in evidence, evidence
    assert "expected a refresh after its 2 s lifetime" in evidence, evidence


@pytest.mark.parametrize("server", [ShortLivedList], indirect=True)
def test_a_refresh_due_later_than_the_run_may_wait_is_not_checked_with_why(env_dir, server, shipped_claim):
    out, _ = run_edge_suite(env_dir, _list_env(server, 1, shipped_claim("athens-edge-lists-fresh", "conformance:edge")))
    evidence = _refresh_evidence(out)
    assert "skipped" in evidence and "its refresh is due in 4 s, longer than this run may wait (cdn.max_wait_s: 1)" in evidence, evidence
