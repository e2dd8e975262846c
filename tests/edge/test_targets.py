"""What the edge suite visits, read off the shipped environment files (nothing is contacted), and the edge schema fields."""

from __future__ import annotations

import pytest

from gauntlet.edge import targets
from gauntlet.environment import load_environment
from gauntlet.exceptions import ConfigError


def test_local_edge():
    env = load_environment("local")
    assert [(t.id, t.address, t.port) for t in targets.tls_targets(env)] == [
        ("edge-goproxy.gauntlet.localhost", "127.0.0.1", 8443), ("edge-localhost", "127.0.0.1", 8443)]
    assert [(a.id, a.url) for a in targets.plain_http(env)] == [("edge-http", "http://127.0.0.1:8080")]
    assert [(a.id, a.url) for a in targets.https(env)] == [("edge", "https://127.0.0.1:8443")]
    assert [e.name for e in targets.cdn_edges(env)] == ["edge"]
    assert targets.resources(env, "error")[0].url == "https://127.0.0.1:8443/example.com/gauntlet/no-such-module/@v/list"
    assert targets.redirect_probe_path(env) == "/github.com/pkg/errors/@v/v0.9.1.info?gauntlet-redirect-probe=1"


def test_castle_is_http_only():
    env = load_environment("castle")
    assert targets.tls_targets(env) == [] and targets.cdn_edges(env) == []
    assert [(a.id, a.url) for a in targets.plain_http(env)] == [("www", "http://www.castle.snagovsky.com")]
    assert [(a.id, a.url, a.derived) for a in targets.https(env)] == [("www-https", "https://www.castle.snagovsky.com", True)]
    assert targets.redirect_probe_path(env) == "/?gauntlet-redirect-probe=1"


def test_artifacthub_plain_http_is_derived_from_the_https_edge():
    env = load_environment("artifacthub-production")
    assert [(a.id, a.url) for a in targets.plain_http(env)] == [("edge-http", "http://artifacthub.io")]
    assert [t.id for t in targets.tls_targets(env)] == ["edge-artifacthub.io"]
    assert [r.path for r in targets.resources(env, "no-store")] == ["/", "/packages/search"]


def test_athens_errors_are_their_own_class():
    env = load_environment("athens-production")
    assert [r.path for r in targets.resources(env, "error")] == [
        "/github.com/pkg/errors/@v/v0.9.99.info", "/example.com/gauntlet/no-such-module/@v/list"]


def _with_cdn(env_data: dict, cdn: dict) -> dict:
    env_data["endpoints"][0]["url"] = "https://127.0.0.1:9"
    env_data["cdn"] = {"provider": "cloudfront", **cdn}
    return env_data


@pytest.mark.parametrize(("cdn", "message"), [
    ({"waf": {"rate_limit": 100, "burst_check": True}}, "burst_check needs max_requests above rate_limit (100)"),
    ({"waf": {"rate_limit": 100, "burst_check": True, "max_requests": 50}}, "the burst must exceed the rate"),
    ({"waf": {"rate_limit": 100, "max_requests": 20000}}, "cdn.waf.max_requests"),
    ({"request_classes": [{"name": "errors", "paths": ["/x"], "cache": "error", "max_max_age": 60}]}, "cdn.error_max_ttl"),
    ({"max_wait_s": 3600}, "cdn.max_wait_s"),
])
def test_edge_schema_refuses_unbounded_or_contradictory_settings(write_env, env_data, cdn, message):
    write_env(_with_cdn(env_data, cdn))
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_environment("sample")


def test_edge_schema_accepts_an_opted_in_waf(write_env, env_data):
    write_env(_with_cdn(env_data, {"waf": {"rate_limit": 100, "burst_check": True, "max_requests": 150, "recover_within_s": 330}}))
    waf = load_environment("sample").cdn.waf
    assert (waf.window_s, waf.blocked_status, waf.path) == (300, (429, 403), "/")
