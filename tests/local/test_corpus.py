"""The corpus list and its known-good hashes cover what the conformance suites need."""

from __future__ import annotations

import re

from gauntlet.local import corpus

# golang.org/x/mod/module: pseudoVersionRE
PSEUDO = re.compile(r"^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")


def test_corpus_list_has_the_required_edge_cases() -> None:
    modules = corpus.load_modules()
    paths = {m.path for m in modules}
    versions = [m.version for m in modules]
    assert len(paths) >= 25 and len(modules) >= 60
    assert any(p != p.lower() for p in paths), "a module path with upper-case letters"
    assert any(v.endswith("+incompatible") for v in versions)
    assert any(PSEUDO.search(v) for v in versions), "a pseudo-version"
    assert any("-" in v and not PSEUDO.search(v) for v in versions), "a pre-release"
    assert any(re.search(r"/v[2-9]\d*$", p) for p in paths), "a /vN suffix"
    assert corpus.ModuleVersion("github.com/fsnotify/fsnotify", "v1.5.3") in modules, "a retracted version"


def test_every_corpus_version_has_known_good_hashes() -> None:
    sums = corpus.load_sums()
    for m in corpus.load_modules():
        assert sums.get(f"{m.path} {m.version}", "").startswith("h1:"), m
        assert sums.get(f"{m.path} {m.version}/go.mod", "").startswith("h1:"), m


def test_case_encoding_follows_the_goproxy_protocol() -> None:
    assert corpus._escape("github.com/BurntSushi/toml") == "github.com/!burnt!sushi/toml"
    assert corpus._escape("v1.0.0-RC1") == "v1.0.0-!r!c1"
