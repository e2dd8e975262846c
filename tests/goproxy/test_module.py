"""Case encoding and version rules, with the examples of the Go reference and x/mod."""

from __future__ import annotations

import pytest

from gauntlet.goproxy.module import compare, escape, go_latest, is_canonical, is_pseudo, is_valid_semver, retracted_by, unescape


@pytest.mark.parametrize(("plain", "encoded"), [
    ("github.com/Azure/azure-sdk-for-go", "github.com/!azure/azure-sdk-for-go"),
    ("github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"),
    ("v1.0.0-RC1", "v1.0.0-!r!c1"),
    ("golang.org/x/mod", "golang.org/x/mod"),
])
def test_case_encoding_round_trips(plain, encoded):
    assert escape(plain) == encoded
    assert unescape(encoded) == plain


@pytest.mark.parametrize("bad", ["github.com/!azure", "example.com/héllo"])
def test_escape_refuses_bang_and_non_ascii(bad):
    with pytest.raises(ValueError):
        escape(bad)


@pytest.mark.parametrize("bad", ["github.com/Azure", "github.com/!Azure", "github.com/x!"])
def test_unescape_refuses_unencoded_upper_case(bad):
    with pytest.raises(ValueError):
        unescape(bad)


@pytest.mark.parametrize(("version", "valid", "canonical", "pseudo"), [
    ("v1.2.3", True, True, False),
    ("v1.2", True, False, False),
    ("v1", True, False, False),
    ("v2.0.0+incompatible", True, True, False),
    ("v1.2.3+meta", True, False, False),
    ("v1.0.0-rc.1", True, True, False),
    ("v0.0.0-20191109021931-daa7c04131f5", True, True, True),
    ("v1.2.4-0.20191109021931-daa7c04131f5", True, True, True),
    ("v1.2.3-pre.0.20191109021931-daa7c04131f5", True, True, True),
    ("1.2.3", False, False, False),
    ("v01.2.3", False, False, False),
    ("v1.2.3-01", False, False, False),
    ("latest", False, False, False),
])
def test_version_rules(version, valid, canonical, pseudo):
    assert (is_valid_semver(version), is_canonical(version), is_pseudo(version)) == (valid, canonical, pseudo)


@pytest.mark.parametrize(("a", "b", "order"), [
    ("v1.0.0", "v1.0.1", -1),
    ("v1.10.0", "v1.9.0", 1),
    ("v1.0.0-rc.1", "v1.0.0", -1),
    ("v1.0.0-alpha", "v1.0.0-alpha.1", -1),
    ("v1.0.0-alpha.beta", "v1.0.0-beta", -1),
    ("v1.0.0-rc.2", "v1.0.0-rc.10", -1),
    ("v1.0.0-1", "v1.0.0-a", -1),
    ("v2.0.0+incompatible", "v2.0.0", 0),
])
def test_semver_order(a, b, order):
    assert compare(a, b) == order
    assert compare(b, a) == -order


def test_go_latest_prefers_releases_then_pre_releases_and_skips_pseudo_versions():
    assert go_latest(["v1.0.0", "v1.2.0-rc.1", "v1.1.0", "v1.3.0-0.20191109021931-daa7c04131f5"]) == "v1.1.0"
    assert go_latest(["v1.2.0-rc.1", "v1.2.0-rc.2"]) == "v1.2.0-rc.2"
    assert go_latest(["v0.0.0-20191109021931-daa7c04131f5", "garbage"]) is None
    assert go_latest([]) is None


def test_go_latest_honours_retractions():
    retracted = retracted_by([("v1.8.0", "v1.8.0"), ("v1.6.0", "v1.7.0")])
    assert go_latest(["v1.5.0", "v1.6.0", "v1.7.0", "v1.8.0"], allowed=lambda v: not retracted(v)) == "v1.5.0"


def test_go_latest_ignores_incompatible_versions_above_a_module_aware_one():
    listed = ["v1.5.5", "v4.1.2+incompatible"]
    assert go_latest(listed, has_go_mod=lambda v: True) == "v1.5.5"
    assert go_latest(listed, has_go_mod=lambda v: False) == "v4.1.2+incompatible"
    assert go_latest(["v3.2.0+incompatible"]) == "v3.2.0+incompatible"
