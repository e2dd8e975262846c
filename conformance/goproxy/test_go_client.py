"""The real client: `go mod download -json` of the probe set through each endpoint.

Rule: the promise is to serve `go` commands in people's CI pipelines (seed 000); the
go command itself is the judge, and its Sum/GoModSum must equal the known-good go.sum.
It gets a deadline from the endpoint's: three requests (.info, .mod, .zip) per module
version, each within the endpoint's request deadline, plus GO_START_S; and at most
``limits.go_client_mb`` of memory.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from gauntlet import children
from gauntlet.exceptions import TargetUnreachable

GO_START_S = 10.0
#: How the go command says it got no answer at all from the proxy (net/http's dial errors).
NO_ANSWER = re.compile(r"dial tcp [^ ]+: (connect: connection refused|i/o timeout)|no such host|connection reset by peer")


def _objects(stream: str) -> list[dict]:
    decoder, out, i = json.JSONDecoder(), [], 0
    while i < len(stream):
        if stream[i].isspace():
            i += 1
            continue
        value, i = decoder.raw_decode(stream, i)
        out.append(value)
    return out


@pytest.mark.check("goproxy.go-client.download-verifies")
def test_go_mod_download_succeeds_and_matches_go_sum(target, environment, known_sums, tmp_path):
    """`go mod download -json` of the probe set through the endpoint succeeds, and the zip hashes the go command computed are the known-good go.sum's."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("no go binary on PATH: the real client cannot be run here")
    wanted = [f"{p.module}@{p.version}" for p in environment.goproxy.probe_set]
    env = {**os.environ, "GOPROXY": str(target.url).rstrip("/"), "GOSUMDB": "off", "GONOSUMDB": "*", "GOFLAGS": "-modcacherw",
           "GOMODCACHE": str(tmp_path / "modcache"), "GOTOOLCHAIN": "local", "GO111MODULE": "on", "GOPATH": str(tmp_path / "gopath")}
    if target.ca_path is not None:
        env["SSL_CERT_FILE"] = str(target.ca_path)
    deadline_s = GO_START_S + 3 * len(wanted) * target.request_deadline_s
    proc = children.run([go, "mod", "download", "-json", *wanted], deadline_s, cwd=tmp_path, env=env,
                        memory_bytes=environment.limits.go_client_mb << 20)
    assert not proc.expired, (f"GOPROXY={target.url} go mod download: not done within {deadline_s:g} s (3 requests per module "
                              f"version within the endpoint's deadline of {target.request_deadline_s:g} s): "
                              + (proc.stderr.strip()[-300:] or "no output"))
    assert "fatal error: out of memory" not in proc.stderr, (
        f"GOPROXY={target.url} go mod download: ran out of the {environment.limits.go_client_mb} MB it may use "
        "(limits.go_client_mb): an answer of the proxy is too large")
    results = _objects(proc.stdout)
    failed = [f"{r['Path']}@{r['Version']}: {r['Error']}" for r in results if r.get("Error")]
    unreachable = [f for f in failed if NO_ANSWER.search(f)]
    if unreachable and len(unreachable) == len(failed):
        raise TargetUnreachable(f"GOPROXY={target.url} go mod download: {unreachable[0]}")
    assert not failed and proc.returncode == 0, f"GOPROXY={target.url} go mod download: " + ("; ".join(failed[:3]) or proc.stderr.strip()[-300:])
    wrong = [f"{r['Path']}@{r['Version']}: go computed {r.get('Sum')}, go.sum has {known_sums.get((r['Path'], r['Version']))}"
             for r in results if (r["Path"], r["Version"]) in known_sums and r.get("Sum") != known_sums[(r["Path"], r["Version"])]]
    assert not wrong, f"GOPROXY={target.url}: served content differs from the known-good go.sum: " + "; ".join(wrong[:3])
