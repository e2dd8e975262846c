"""The request paths the suite asks for."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gauntlet.goproxy.module import unescape
from gauntlet.goproxy.protocol import MALFORMED, lookup_path, session_paths, unknown_version_path


@dataclass(frozen=True)
class Probe:
    module: str
    version: str


@pytest.mark.parametrize(("module", "path"), [
    ("github.com/pkg/errors", "github.com/pkg/errors/@v/v1.999.999.info"),
    ("github.com/Masterminds/semver/v3", "github.com/!masterminds/semver/v3/@v/v3.999.999.info"),
    ("gopkg.in/yaml.v3", "gopkg.in/yaml.v3/@v/v3.999.999.info"),
    ("github.com/x/v10", "github.com/x/v10/@v/v10.999.999.info"),
])
def test_unknown_versions_are_valid_for_the_module_path(module, path):
    assert unknown_version_path(module) == path
    assert unknown_version_path(module, 2).endswith(".999.1001.info")


def test_session_paths_hold_each_answer_once_case_encoded():
    probes = [Probe("github.com/BurntSushi/toml", "v1.3.2"), Probe("github.com/BurntSushi/toml", "v1.4.0")]
    paths = session_paths(probes, ["sum.golang.org"])
    assert len(paths) == len(set(paths))
    assert "github.com/!burnt!sushi/toml/@v/list" in paths and "github.com/!burnt!sushi/toml/@v/v1.4.0.zip" in paths
    assert "sumdb/sum.golang.org/supported" in paths and lookup_path("sum.golang.org", *vars(probes[0]).values()) in paths
    assert all(unescape(p.split("/@")[0]) for p in set(paths) - set(MALFORMED.values()) if "/@" in p)
