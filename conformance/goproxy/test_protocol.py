"""The GOPROXY protocol endpoints, for every probe module on every endpoint.

Rules: Go Modules Reference, "Module proxies" / "GOPROXY protocol";
cmd/go/internal/modfetch/proxy.go for how the go command reads the answers.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from gauntlet.goproxy.archive import module_path, zip_problems
from gauntlet.goproxy.module import escape, is_canonical, is_pseudo, is_valid_semver


@pytest.mark.check("goproxy.list.canonical-versions")
def test_list_has_one_canonical_version_per_line(goproxy, module, version):
    """`$module/@v/list`: 200, one version per line; the go command keeps valid semver and drops
    pseudo-versions, so a proxy lists canonical non-pseudo versions only."""
    answer = goproxy.list(module)
    assert answer.status == 200, f"{answer.describe()}: expected 200 with the module's versions"
    versions = [line.split()[0] for line in answer.text.splitlines() if line.strip()]
    bad = [v for v in versions if not is_canonical(v) or is_pseudo(v)]
    assert not bad, f"{answer.describe()}: expected canonical, non-pseudo versions only, found {bad}"
    if not is_pseudo(version):
        assert version in versions, f"{answer.describe()}: expected {version} in the list, found {versions}"


@pytest.mark.check("goproxy.info.version-matches")
def test_info_names_the_requested_version(goproxy, module, version):
    """`.info`: JSON with `Version` equal to the canonical version asked for ("proxy returned info for
    version X instead of requested version" otherwise) and an optional RFC 3339 `Time`."""
    answer = goproxy.info(module, version)
    assert answer.status == 200, f"{answer.describe()}: expected 200 with the version's JSON info"
    try:
        info = json.loads(answer.body)
    except ValueError:
        pytest.fail(f"{answer.describe()}: expected JSON like {{\"Version\": \"{version}\", \"Time\": ...}}")
    assert isinstance(info, dict) and info.get("Version") == version, f"{answer.describe()}: expected Version {version!r}, found {info!r}"
    if "Time" in info:
        try:
            dt.datetime.fromisoformat(str(info["Time"]).replace("Z", "+00:00"))
        except ValueError:
            pytest.fail(f"{answer.describe()}: expected Time in RFC 3339, found {info['Time']!r}")


@pytest.mark.check("goproxy.mod.declares-module")
def test_mod_declares_the_module(goproxy, module, version):
    """`.mod`: the go.mod file of that version, whose `module` directive is the module path."""
    answer = goproxy.mod(module, version)
    assert answer.status == 200, f"{answer.describe()}: expected 200 with the go.mod file"
    declared = module_path(answer.body)
    assert declared == module, f"{answer.describe()}: expected 'module {module}', found {declared!r}"


@pytest.mark.check("goproxy.zip.valid")
def test_zip_is_a_valid_module_zip(goproxy, module, version):
    """`.zip`: a module zip the go command accepts (golang.org/x/mod/zip CheckZip), whose go.mod is the
    `.mod` response."""
    mod = goproxy.mod(module, version)
    answer = goproxy.zip(module, version)
    assert answer.status == 200, f"{answer.describe()}: expected 200 with the module zip"
    problems = zip_problems(answer.body, module, version, mod.body if mod.status == 200 else None)
    assert not problems, f"GET {answer.url}: expected a valid module zip, found: " + "; ".join(problems[:5])


@pytest.mark.check("goproxy.latest.optional-or-listed")
def test_latest_is_optional_but_never_an_error(goproxy, module, version):
    """`$module/@latest` is optional: 404/410 make the go command derive latest from the list; any other
    error stops it. A 200 must name a valid version the list also holds."""
    answer = goproxy.latest(module)
    if answer.status in (404, 410):
        return
    assert answer.status == 200, f"{answer.describe()}: expected 200, or 404/410 (not supported)"
    info = json.loads(answer.body) if answer.body.strip().startswith(b"{") else {}
    latest = info.get("Version", "")
    assert is_valid_semver(latest), f"{answer.describe()}: expected JSON with a semantic Version, found {info!r}"
    listed = [line.split()[0] for line in goproxy.list(module).text.splitlines() if line.strip()]
    assert not listed or latest in listed or is_pseudo(latest), f"{answer.describe()}: @latest is {latest}, which /@v/list {listed} does not hold"


@pytest.mark.check("goproxy.case.escaped-only")
def test_upper_case_paths_are_served_only_escaped(goproxy, mixed_case_probe):
    """Case encoding: `github.com/Azure` is requested as `github.com/!azure`; the unescaped form must not
    silently serve something else (on a case-insensitive store it could serve another module)."""
    module, version = mixed_case_probe.module, mixed_case_probe.version
    escaped = goproxy.get(f"{escape(module)}/@v/{escape(version)}.mod")
    assert escaped.status == 200, f"{escaped.describe()}: expected 200 for the !-escaped path"
    raw = goproxy.get(f"{module}/@v/{version}.mod")
    assert raw.status >= 400 or raw.body == escaped.body, (
        f"{raw.describe()}: the unescaped path must answer 4xx, or the same go.mod; it served different content")
    assert raw.status < 500, f"{raw.describe()}: an unescaped path is a client error (4xx), not a server error"
