"""Load parameters from environment files; profiles refused when they cannot be bounded or make no sense."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from gauntlet import paths
from gauntlet.environment import load_environment
from gauntlet.exceptions import ConfigError
from gauntlet.load.params import default_profile, read_module_set, resolve
from gauntlet.local import kube_nodes
from gauntlet.urls import is_loopback_host


def test_local_smoke_targets_the_loopback_edge_with_its_ca_and_the_corpus():
    env = load_environment("local", paths.ROOT / "environments")
    if not env.endpoint("edge").ca_path.is_file():
        pytest.skip("the local CA is made by gauntlet local up")
    p = resolve(env, "smoke")
    assert p.host == "https://127.0.0.1:8443" and p.server_name == "goproxy.gauntlet.localhost"
    assert p.ca_bundle and Path(p.ca_bundle).is_file()
    assert ("github.com/BurntSushi/toml", "v1.2.1") == p.modules[0] and len(p.modules) > 50
    assert (p.duration_s, p.max_requests) == (20, 5000)


def test_every_local_profile_targets_loopback_or_the_real_nodes_bridge_only():
    """The network rule: the local stack's load goes to loopback, or to the bridge the cluster tier made for its nodes."""
    env = load_environment("local", paths.ROOT / "environments")
    for name, profile in env.load_profiles.items():
        host = env.endpoint(profile.endpoint).url.host
        assert is_loopback_host(host) or ipaddress.ip_address(host) in ipaddress.ip_network(kube_nodes.NODE_NET), f"{name}: {host}"


def test_without_a_module_set_the_probe_set_is_used(write_env, env_data):
    env_data["goproxy"] = {"endpoints": ["edge"], "probe_set": [{"module": "github.com/pkg/errors", "version": "v0.9.1"}]}
    write_env(env_data)
    assert resolve(load_environment("sample"), "smoke").modules == (("github.com/pkg/errors", "v0.9.1"),)


def test_a_goproxy_profile_without_any_module_set_is_refused(write_env, env_data):
    write_env(env_data)
    with pytest.raises(ConfigError, match="load_profiles.smoke.modules: a goproxy profile needs a module set"):
        resolve(load_environment("sample"), "smoke")


def test_a_missing_ca_bundle_is_named(write_env, env_data, tmp_path):
    env_data["endpoints"][0].update(url="https://127.0.0.1:9", ca_bundle=str(tmp_path / "nope.pem"))
    env_data["load_profiles"]["smoke"]["user"] = "web"
    write_env(env_data)
    with pytest.raises(ConfigError, match="CA bundle .*nope.pem not found"):
        resolve(load_environment("sample"), "smoke")


def test_module_set_file_format(tmp_path):
    good = tmp_path / "m.txt"
    good.write_text("# popular first\ngithub.com/pkg/errors v0.9.1\n\ngolang.org/x/mod v0.14.0  # pre\n")
    assert read_module_set(good) == (("github.com/pkg/errors", "v0.9.1"), ("golang.org/x/mod", "v0.14.0"))
    bad = tmp_path / "bad.txt"
    bad.write_text("github.com/pkg/errors\n")
    with pytest.raises(ConfigError, match=r"bad.txt:1: expected 'module version'"):
        read_module_set(bad)


def test_default_profile_is_the_first_for_the_user(write_env, env_data):
    env_data["load_profiles"]["browse"] = {**env_data["load_profiles"]["smoke"], "user": "web"}
    env_data["claims"][1]["evidence"].append("load.p95@browse")
    write_env(env_data)
    env = load_environment("sample")
    assert default_profile(env, "web") == "browse" and default_profile(env, "goproxy") == "smoke"
    with pytest.raises(ConfigError, match="no load profile for a artifacthub user"):
        default_profile(env, "artifacthub")


@pytest.mark.parametrize(("change", "fragment"), [
    ({"duration_s": None}, "load_profiles.smoke.duration_s"),
    ({"max_requests": None}, "load_profiles.smoke.max_requests"),
    ({"wait_s": [2, 1]}, "wait_s: min (2.0) must not exceed max (1.0)"),
    ({"user": "web", "modules": "goproxy/modules.txt"}, "modules: only a goproxy user downloads modules"),
    ({"queries": ["nginx"]}, "queries: only an artifacthub user searches"),
    ({"user": "web", "cold_ratio": 0.5}, "cold_ratio: only a goproxy user"),
    ({"paths": ["relative"]}, "load_profiles.smoke.paths[0]"),
    ({"cold_ratio": 1.5}, "load_profiles.smoke.cold_ratio"),
])
def test_unbounded_or_meaningless_profiles_are_refused(write_env, env_data, change, fragment):
    profile = env_data["load_profiles"]["smoke"]
    for key, value in change.items():
        if value is None:
            profile.pop(key)
        else:
            profile[key] = value
    write_env(env_data)
    with pytest.raises(ConfigError) as info:
        load_environment("sample")
    assert fragment in str(info.value)
