"""The GOPROXY protocol endpoints, for every probe module on every endpoint.

Rules: Go Modules Reference, "GOPROXY protocol"; cmd/go/internal/modfetch/proxy.go
for how the go command reads the answers, cmd/go/internal/modload/query.go for
how it resolves ``@latest`` from them.
"""

from __future__ import annotations

import pytest

from gauntlet.answers import Fetched
from gauntlet.goproxy import info as revinfo
from gauntlet.goproxy.archive import module_path, retractions, zip_problems
from gauntlet.goproxy.client import GoproxyClient
from gauntlet.goproxy.module import escape, go_latest, is_canonical, is_pseudo, is_valid_semver, retracted_by
from gauntlet.goproxy.protocol import artefact_path
from gauntlet.goproxy.rfc3339 import problem as time_problem


def _listed(answer: Fetched) -> list[str]:
    """The first field of every line of a list answer, as ``proxyRepo.Versions`` splits it."""
    return [line.split()[0] for line in answer.text.splitlines() if line.strip()]


def _decoded(answer: Fetched) -> revinfo.RevInfo:
    try:
        return revinfo.decode(answer.body)
    except ValueError as exc:
        pytest.fail(f"{answer.describe()}: expected the JSON of a RevInfo, found what the go command refuses: {exc}")


@pytest.mark.check("goproxy.list.canonical-versions")
def test_list_has_one_canonical_version_per_line(goproxy, module, version):
    """`$module/@v/list`: 200, one version per line; "this list should not include pseudo-versions"
    (GOPROXY protocol), and the versions of a proxy are canonical."""
    answer = goproxy.list(module)
    assert answer.status == 200, f"{answer.describe()}: expected 200 with the module's versions"
    versions = _listed(answer)
    bad = [v for v in versions if not is_canonical(v) or is_pseudo(v)]
    assert not bad, f"{answer.describe()}: expected canonical, non-pseudo versions only, found {bad}"
    if not is_pseudo(version):
        assert version in versions, f"{answer.describe()}: expected {version} in the list, found {versions}"


@pytest.mark.check("goproxy.list.versions-resolve")
def test_listed_versions_resolve(goproxy, probe_module):
    """Every listed version has an `.info` naming it: `go get M@latest` takes the highest listed version
    and asks for its `.info` (modload ``queryProxy`` → ``proxyRepo.Stat``), so a listed version the proxy
    cannot serve breaks the build."""
    answer = goproxy.list(probe_module)
    assert answer.status == 200, f"{answer.describe()}: expected 200 with the module's versions"
    listed = [v for v in _listed(answer) if is_valid_semver(v)]
    infos = goproxy.get_many(artefact_path(probe_module, v, "info") for v in listed)
    broken = [f"{v}: {a.describe(60)}" for v, a in zip(listed, infos, strict=True) if a.status != 200]
    assert not broken, f"{answer.describe()}: lists versions whose .info does not answer 200: " + "; ".join(broken[:3])


@pytest.mark.check("goproxy.info.version-matches")
def test_info_names_the_requested_version(goproxy, module, version):
    """`.info`: a JSON object whose required `Version` is the canonical version asked for ("proxy returned
    info for version X instead of requested version" otherwise), decoded as encoding/json decodes it."""
    answer = goproxy.info(module, version)
    assert answer.status == 200, f"{answer.describe()}: expected 200 with the version's JSON info"
    found = _decoded(answer).version
    assert found == version, f"{answer.describe()}: expected Version {version!r}, found {found!r}"


@pytest.mark.check("goproxy.info.time-rfc3339")
def test_info_time_is_rfc3339_as_go_parses_it(goproxy, module, version):
    """`.info` `Time` is optional; "if present, it must be a string in RFC 3339 format", read by
    ``time.Time.UnmarshalJSON``: what it refuses makes the go command refuse the whole answer."""
    answer = goproxy.info(module, version)
    assert answer.status == 200, f"{answer.describe()}: expected 200 with the version's JSON info"
    written = _decoded(answer).time
    if written is not None:
        refused = time_problem(written)
        assert refused is None, f"{answer.describe()}: expected Time in RFC 3339 as Go parses it, found {refused}"


@pytest.mark.check("goproxy.mod.declares-module")
def test_mod_declares_the_module(goproxy, module, version):
    """`.mod`: the version's go.mod, whose `module` directive is the module path (or, for a module
    without one, "a file containing only a module statement with the requested module path")."""
    answer = goproxy.mod(module, version)
    assert answer.status == 200, f"{answer.describe()}: expected 200 with the go.mod file"
    declared = module_path(answer.body)
    assert declared == module, f"{answer.describe()}: expected 'module {module}', found {declared!r}"


@pytest.mark.check("goproxy.zip.valid")
def test_zip_is_a_valid_module_zip(goproxy, module, version):
    """`.zip`: a module zip the go command accepts (Module zip files; golang.org/x/mod/zip CheckZip), whose
    go.mod is the `.mod` response."""
    mod = goproxy.mod(module, version)
    answer = goproxy.zip(module, version)
    assert answer.status == 200, f"{answer.describe()}: expected 200 with the module zip"
    problems = zip_problems(answer.body, module, version, mod.body if mod.status == 200 else None)
    assert not problems, f"{answer.where()}: expected a valid module zip, found: " + "; ".join(problems[:5])


@pytest.mark.check("goproxy.latest.optional-or-listed")
def test_latest_is_optional_but_never_an_error(goproxy, probe_module):
    """`$module/@latest` "is optional": 404/410 make the go command derive latest from the list; any other
    error stops it, and a 200 must be JSON naming a valid version (``proxyRepo.Latest``) that the list also
    holds, unless it is a pseudo-version (never listed)."""
    answer = goproxy.latest(probe_module)
    if answer.status in (404, 410):
        return
    assert answer.status == 200, f"{answer.describe()}: expected 200, or 404/410 (not supported)"
    latest = _decoded(answer).version
    assert is_valid_semver(latest), f"{answer.describe()}: expected JSON with a semantic Version, found {latest!r}"
    listing = goproxy.list(probe_module)
    listed = _listed(listing) if listing.status == 200 else []
    assert not listed or latest in listed or is_pseudo(latest), (
        f"{answer.describe()}: @latest is {latest}, which {listing.url} {listed} does not hold")


def _go_pick(goproxy: GoproxyClient, module: str, listed: list[str]) -> tuple[str | None, str | None]:
    """What `go get M@latest` takes from the list, with and without the retractions of the latest go.mod."""
    def has_go_mod(v: str) -> bool:
        mod = goproxy.mod(module, v)
        return mod.status == 200 and mod.body.strip() != f"module {module}".encode()

    ignoring = go_latest(listed, has_go_mod=has_go_mod)
    if ignoring is None:
        return None, None
    mod = goproxy.mod(module, ignoring)
    retracted = retracted_by(retractions(mod.body) if mod.status == 200 else [])
    return go_latest(listed, allowed=lambda v: not retracted(v), has_go_mod=has_go_mod), ignoring


@pytest.mark.check("goproxy.latest.matches-list")
def test_latest_agrees_with_the_list(goproxy, probe_module):
    """`@latest` "should be the version the go command should use if `@v/list` is empty or no listed version
    is suitable", and it must resolve: when the list gives go a version (highest release, else highest
    pre-release, retractions honoured), a tagged `@latest` is that version; a pseudo-version `@latest`
    answers its own `.info`. Disagreement means one of the two is served from a stale copy."""
    latest = goproxy.latest(probe_module)
    if latest.status in (404, 410):
        pytest.skip(f"{latest.describe(40)}: the proxy does not serve @latest for {probe_module}")
    listing = goproxy.list(probe_module)
    assert listing.status == 200 and latest.status == 200, (
        f"{listing.describe(60)}; {latest.describe(60)}: expected both to answer 200")
    named = _decoded(latest).version
    listed = _listed(listing)
    picked, ignoring = _go_pick(goproxy, probe_module, listed)
    if picked is not None and not is_pseudo(named):
        assert named in (picked, ignoring), (
            f"{latest.where()}: @latest is {named}, but from {listing.url} ({listed}) the go command takes {picked}"
            + (f" ({ignoring} ignoring retractions)" if ignoring != picked else ""))
    resolved = goproxy.get(artefact_path(probe_module, named, "info")) if is_valid_semver(named) else None
    assert resolved is not None and resolved.status == 200, (
        f"{latest.where()}: @latest names {named!r}, whose .info does not resolve: "
        + (resolved.describe(80) if resolved else "not a version"))


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


@pytest.mark.check("goproxy.case.distinct-modules")
def test_paths_differing_only_in_case_are_other_modules(goproxy, mixed_case_probe):
    """Modules `example.com/M` and `example.com/m` are different modules (the case encoding exists so both
    can be stored): what a proxy serves for the lower-case path is that module's own zip, every entry under
    `<lower-case path>@<version>/`, or 404/410 — never the zip of the module it folds onto."""
    module, version = mixed_case_probe.module, mixed_case_probe.version
    own = goproxy.zip(module, version)
    assert own.status == 200, f"{own.describe()}: expected 200 with the module zip"
    other = goproxy.zip(module.lower(), version)  # asked for after the upper-case module's answer, as a cache would see it
    if other.status in (404, 410):
        return
    assert other.status == 200, f"{other.describe()}: expected 404/410 for a module that does not exist, or its zip"
    foreign = [p for p in zip_problems(other.body, module.lower(), version) if "does not have prefix" in p]
    assert not foreign and other.body != own.body, (
        f"{other.describe(60)}: expected 404/410 or the zip of {module.lower()}, found the zip of {module}, "
        f"a different module ({foreign[0] if foreign else 'the same bytes'})")
