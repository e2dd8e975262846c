"""Redirects: an answer may be a 3xx to where the content is (Athens' `redirect` download mode, blob storage).

Rule: Go Modules Reference, "GOPROXY protocol": "Redirects (3xx) are followed";
cmd/go/internal/web follows them with net/http's client: a `Location` is needed,
at most 10 requests in all, never from https to plain http. Every other check
judges the answer at the end of the redirects; this one judges the redirects.
"""

from __future__ import annotations

import pytest

from gauntlet.goproxy.protocol import ARTEFACTS, artefact_path, latest_path, list_path


@pytest.mark.check("goproxy.redirect.followed")
def test_redirects_lead_to_the_answer(goproxy, module, version, record_property):
    """Where the probe's answers redirect, the go command can follow the redirects, and they end at the
    content: 200 for the version's `.info`, `.mod` and `.zip`; 200, 404 or 410 for its list and `@latest`."""
    ends = {artefact_path(module, version, kind): (200,) for kind in ARTEFACTS}
    ends.update({list_path(module): (200, 404, 410), latest_path(module): (200, 404, 410)})
    redirected = [(a, ends[path]) for path, a in zip(ends, goproxy.get_many(ends), strict=True) if a.redirects or a.refused]
    if not redirected:
        pytest.skip(f"no answer of {goproxy.base_url} for {module}@{version} redirects")
    record_property("redirects", [a.where() for a, _ in redirected])
    refused = [a for a, _ in redirected if a.refused]
    assert not refused, f"{refused[0].describe(60)}: expected a redirect the go command follows"
    broken = [a for a, allowed in redirected if a.status not in allowed]
    assert not broken, f"{broken[0].describe(80)}: expected the redirect to end at the content (200), found {broken[0].status}"
