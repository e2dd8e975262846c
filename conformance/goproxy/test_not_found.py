"""Not-found semantics: 404/410 for what is not there, so `GOPROXY=a,b` falls through to b.

Rule: Go Modules Reference, "GOPROXY protocol": 404 or 410 mean "not here"; with a
comma the go command tries the next proxy; any other error stops the download.
"""

from __future__ import annotations

import pytest

UNKNOWN_MODULE = "example.com/gauntlet/no-such-module-7f3c"


@pytest.mark.parametrize("path", [
    f"{UNKNOWN_MODULE}/@v/list",
    f"{UNKNOWN_MODULE}/@v/v1.0.0.info",
    f"{UNKNOWN_MODULE}/@v/v1.0.0.mod",
    f"{UNKNOWN_MODULE}/@v/v1.0.0.zip",
    f"{UNKNOWN_MODULE}/@latest",
], ids=["list", "info", "mod", "zip", "latest"])
@pytest.mark.check("goproxy.not-found.unknown-module")
def test_unknown_module_is_404_or_410(goproxy, path):
    """A module the proxy does not have is 404 or 410 on every protocol path, so `GOPROXY=a,b` falls through to b."""
    answer = goproxy.get(path)
    assert answer.status in (404, 410), f"{answer.describe()}: expected 404 or 410 so the go command tries the next proxy"


@pytest.mark.check("goproxy.not-found.unknown-version")
def test_unknown_version_is_404_or_410(goproxy, module, version):
    """A version that does not exist is 404 or 410, not a server error that stops the go command."""
    answer = goproxy.info(module, "v999.999.999")
    assert answer.status in (404, 410), f"{answer.describe()}: expected 404 or 410 for a version that does not exist"


@pytest.mark.parametrize("path", [
    "github.com/!!double/@v/list",
    "github.com/x/@v/not-a-version.info",
    "github.com/x/@v/v1.0.0.exe",
], ids=["bad-escape", "bad-version", "bad-suffix"])
@pytest.mark.check("goproxy.not-found.malformed-path")
def test_malformed_paths_are_client_errors(goproxy, path):
    """A malformed path (a bad case escape, a non-semver version, an unknown suffix) is a client error (4xx)."""
    answer = goproxy.get(path)
    assert 400 <= answer.status < 500, f"{answer.describe()}: expected a 4xx answer for a malformed path"
