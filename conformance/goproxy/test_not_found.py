"""Not-found semantics: 404/410 for what is not there, so `GOPROXY=a,b` falls through to b; error bodies.

Rules: Go Modules Reference, "GOPROXY protocol": 404 or 410 mean "not available on
the proxy, but it may be found elsewhere"; with a comma the go command tries the
next proxy, any other error stops the download (modfetch ``TryProxies``); "error
responses should have content type text/plain with charset either utf-8 or
us-ascii" (cmd/go/internal/web shows users only such bodies).
"""

from __future__ import annotations

import email.message

import pytest

from gauntlet.goproxy.protocol import MALFORMED, NOT_FOUND, unknown_version_path


@pytest.mark.check("goproxy.not-found.unknown-module")
@pytest.mark.parametrize("path", list(NOT_FOUND.values()), ids=list(NOT_FOUND))
def test_unknown_module_is_404_or_410(goproxy, path):
    """A module the proxy does not have: 404 or 410 on every endpoint of the protocol."""
    answer = goproxy.get(path)
    assert answer.status in (404, 410), f"{answer.describe()}: expected 404 or 410 so the go command tries the next proxy"


@pytest.mark.check("goproxy.not-found.unknown-version")
def test_unknown_version_is_404_or_410(goproxy, module):
    """A version the proxy does not have, of a module it has: 404 or 410."""
    answer = goproxy.get(unknown_version_path(module))
    assert answer.status in (404, 410), f"{answer.describe()}: expected 404 or 410 for a version that does not exist"


@pytest.mark.check("goproxy.not-found.malformed-path")
@pytest.mark.parametrize("path", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_paths_are_client_errors(goproxy, path):
    """A path no go command sends (bad escape, not a version, unknown suffix) is the client's error: 4xx."""
    answer = goproxy.get(path)
    assert 400 <= answer.status < 500, f"{answer.describe()}: expected a 4xx answer for a malformed path"


def _shown_detail(body: bytes, content_type: str) -> str | None:
    """What the go command prints under "server response:" (web ``formatErrorDetail``), or None if nothing."""
    header = email.message.Message()
    header["content-type"] = content_type
    if header.get_content_type() != "text/plain" or (header.get_param("charset") or "utf-8").lower() not in ("utf-8", "us-ascii"):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(not (c.isprintable() or c.isspace()) for c in text):
        return None
    first = text.split("\n", 1)[0]
    return first if first.strip() else None


@pytest.mark.check("goproxy.errors.text-plain")
def test_error_answers_are_text_the_go_command_shows(goproxy, environment):
    """Every not-found answer is `text/plain` (utf-8 or us-ascii) whose first line the go command prints to
    its user after "server response:"; an HTML page or a binary body leaves them with the bare status."""
    paths = [*NOT_FOUND.values(), *(unknown_version_path(p.module) for p in environment.goproxy.probe_set)]
    errors = [a for a in goproxy.get_many(dict.fromkeys(paths)) if a.status >= 400]
    if not errors:
        pytest.skip(f"{goproxy.base_url} answered no not-found probe with an error")
    mute = [a for a in errors if _shown_detail(a.body, a.headers.get("content-type", "")) is None]
    assert not mute, (f"{mute[0].describe(80)}: expected a text/plain (utf-8) error body the go command shows its users, "
                      f"found none it would show in {len(mute)} of {len(errors)} error answers")
