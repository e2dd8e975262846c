"""The real client: `go mod download -json` of the probe set through each endpoint.

Rule: the promise is to serve `go` commands in people's CI pipelines (seed 000); the
go command itself is the judge. It runs with GOPROXY set to the endpoint alone and,
where the environment says the proxy serves a checksum database it can verify
(`goproxy.sumdb`, `goproxy.go_client_sumdb`), GOSUMDB set to it, so it verifies every
download through the proxy as a user's would; else GOSUMDB=off. Its `Sum` and
`GoModSum` must both equal the known-good go.sum. It runs within a deadline from the
endpoint's and within ``limits.go_client_mb`` of memory (conftest ``go_downloads``).
"""

from __future__ import annotations

import re
import socket

import pytest

from gauntlet.exceptions import TargetUnreachable
from gauntlet.urls import origin

#: How the go command says it got no (complete) answer from the proxy: net/http's dial errors, a connection reset, an
#: answer cut off before its end; for the proxy's own URLs.
NO_ANSWER = re.compile(r"dial tcp [^ ]+: (connect: connection refused|i/o timeout)|no such host|connection reset by peer"
                       r"|: unexpected EOF")


@pytest.mark.check("goproxy.go-client.download-verifies")
def test_go_mod_download_succeeds_and_matches_go_sum(target, environment, go_download, known_sums, record_property):
    """`go mod download -json` of the probe set through the endpoint alone succeeds (verified through the proxied
    checksum database where the environment says so), and both hashes the go command computed, `Sum` and
    `GoModSum`, are the known-good go.sum lines."""
    record_property("go_client", {"settings": go_download.settings, "elapsed_s": round(go_download.elapsed_s, 2)})
    assert not go_download.expired, (f"{go_download.settings} go mod download: not done within {go_download.deadline_s:g} s "
                                     f"(3 requests per module version within the endpoint's deadline of {target.request_deadline_s:g} s): "
                                     + (go_download.stderr.strip()[-300:] or "no output"))
    assert "fatal error: out of memory" not in go_download.stderr, (
        f"{go_download.settings} go mod download: ran out of the {environment.limits.go_client_mb} MB it may use "
        "(limits.go_client_mb): an answer of the proxy is too large")
    failed = go_download.errors()
    unreachable = [f for f in failed if NO_ANSWER.search(f) and f"{go_download.proxy}/" in f and "proxyconnect" not in f]
    if unreachable and len(unreachable) == len(failed):
        raise TargetUnreachable(f"{go_download.settings} go mod download: {unreachable[0]}")
    said = "; ".join(failed[:3]) or go_download.stderr.strip()[-300:] or f"no readable record: {go_download.unread or 'no output'}"
    if go_download.returncode and not failed and not _accepts_connections(go_download.proxy):
        raise TargetUnreachable(f"{go_download.settings} go mod download: exited {go_download.returncode} ({said}), and "
                                f"{go_download.proxy} accepts no connection now")
    tried_beyond = "proxyconnect" in go_download.stderr + "".join(failed)
    blocked = " (the go client tried a host beyond the endpoint, which is blocked here)" if tried_beyond else ""
    assert not failed and go_download.returncode == 0, f"{go_download.settings} go mod download: {said}{blocked}"
    wrong = [f"{r['Path']}@{r['Version']}{suffix}: go computed {r.get(field)}, go.sum has {known_sums[key]}"
             for r in go_download.records
             for field, suffix in (("Sum", ""), ("GoModSum", "/go.mod"))
             for key in [(r["Path"], r["Version"] + suffix)]
             if key in known_sums and r.get(field) != known_sums[key]]
    assert not wrong, f"{go_download.settings}: served content differs from the known-good go.sum: " + "; ".join(wrong[:3])


def _accepts_connections(url: str, timeout_s: float = 2.0) -> bool:
    """Whether the proxy's host and port accept a TCP connection (a go client that failed without a word, against a
    proxy that accepts none, met the component down)."""
    _, host, port = origin(url)
    try:
        with socket.create_connection((host, port or 443), timeout=timeout_s):
            return True
    except OSError:
        return False
