"""The GOPROXY load user's pure parts: popularity, case-encoded paths, what a good answer is."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from gauntlet.load.goproxy import ModulePicker, problem, urls

MODULES = [(f"example.com/m{i}", "v1.0.0") for i in range(50)]


def test_warm_picks_follow_popularity_the_set_order():
    picker = ModulePicker(MODULES, cold_ratio=0.0, rng=random.Random(1))
    counts = Counter(picker.pick()[0] for _ in range(20000))
    assert counts["example.com/m0"] > counts["example.com/m1"] > counts["example.com/m9"] > counts["example.com/m49"]
    assert counts["example.com/m0"] / 20000 > 0.15, "the head is most of the traffic"


def test_cold_picks_reach_the_whole_long_tail():
    picker = ModulePicker(MODULES, cold_ratio=1.0, rng=random.Random(2))
    counts = Counter(picker.pick()[0] for _ in range(5000))
    assert len(counts) == 50 and max(counts.values()) < 3 * min(counts.values())


def test_paths_are_case_encoded_like_the_go_command_sends_them():
    assert urls("github.com/BurntSushi/toml", "v1.4.0") == {
        "list": "/github.com/!burnt!sushi/toml/@v/list",
        "info": "/github.com/!burnt!sushi/toml/@v/v1.4.0.info",
        "mod": "/github.com/!burnt!sushi/toml/@v/v1.4.0.mod",
        "zip": "/github.com/!burnt!sushi/toml/@v/v1.4.0.zip",
    }
    assert urls("github.com/Masterminds/semver/v3", "v3.2.1-RC1")["info"] == "/github.com/!masterminds/semver/v3/@v/v3.2.1-!r!c1.info"


@pytest.mark.parametrize(("step", "status", "body", "expected"), [
    ("list", 200, b"v1.0.0\nv1.1.0\n", None),
    ("list", 200, b"", None),
    ("list", 200, b"<html>", "list holds a non-version line '<html>'"),
    ("list", 500, b"", "HTTP 500"),
    ("info", 200, b'{"Version":"v1.0.0","Time":"2020-01-01T00:00:00Z"}', None),
    ("info", 200, b'{"Version":"v1.1.0"}', "info names version 'v1.1.0', expected 'v1.0.0'"),
    ("info", 200, b"not json", "info is not JSON"),
    ("mod", 200, b"// Deprecated: use v2\nmodule example.com/m\n\ngo 1.21\n", None),
    ("mod", 200, b'module "example.com/m"\n', None),
    ("mod", 200, b"module example.com/other\n", "go.mod names module 'example.com/other', expected 'example.com/m'"),
    ("mod", 200, b"go 1.21\n", "go.mod has no module directive"),
    ("zip", 200, b"PK\x03\x04rest", None),
    ("zip", 200, b"<html>oops</html>", "zip does not start with a zip header"),
    ("zip", 404, b"not found", "HTTP 404"),
])
def test_answers_are_judged_as_go_would(step, status, body, expected):
    assert problem(step, "example.com/m", "v1.0.0", status, body) == expected
