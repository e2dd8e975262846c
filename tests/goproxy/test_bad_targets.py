"""Bad targets: garbage, truncated, slow and absent proxies give `violated` with the observation, never a crash.

The targets here are small loopback servers answering wrongly on purpose, reached as the service
(an edge) and as one replica; the suite under test is the real `conformance/goproxy`. A replica that
does not answer is a component finding for the service claim, and violates the claim about replicas.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from gauntlet import paths

pytestmark = pytest.mark.slow  # each test runs the GOPROXY suite in a subprocess

MODULE, VERSION = "github.com/pkg/errors", "v0.9.1"


def _truncated_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{MODULE}@{VERSION}/errors.go", "package errors\n" * 200)
    return buffer.getvalue()[:300]


class Garbage(BaseHTTPRequestHandler):
    """Answers 200 to everything, with the wrong thing: HTML lists, non-JSON info, truncated zips."""

    def do_GET(self) -> None:
        if self.path.endswith(".zip"):
            body, kind = _truncated_zip(), "application/zip"
        elif self.path.endswith(".info"):
            body, kind = b"<html>Version: maybe</html>", "text/html"
        else:
            body, kind = b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class Slow(Garbage):
    def do_GET(self) -> None:
        time.sleep(2)
        super().do_GET()


@pytest.fixture
def server(request):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def run_suite(env_dir: Path, url: str, timeout_s: float = 2.0) -> dict:
    source = {"document": "000_b68d99118d70d8c0.txt", "quote": "public proxy"}
    env = {
        "name": "bad", "description": "a proxy that answers wrongly, on loopback",
        "endpoints": [{"name": "proxy", "url": url, "role": "edge", "timeout_s": timeout_s},
                      {"name": "replica", "url": url, "role": "replica", "timeout_s": timeout_s}],
        "goproxy": {"endpoints": ["proxy", "replica"], "probe_set": [{"module": MODULE, "version": VERSION}],
                    "go_sum": str(paths.ROOT / "fixtures" / "goproxy" / "go.sum"), "sumdb": ["sum.golang.org"]},
        "claims": [{"id": "athens-protocol", "statement": "serves go clients", "gates": True, "evidence": ["goproxy.*"],
                    "source": source},
                   {"id": "athens-replicas-answer", "statement": "every Athens replica answers its health checks",
                    "gates": True, "about": "components", "evidence": ["athens.health.ok", "athens.version.json"],
                    "source": source}],
    }
    (env_dir / "bad.yaml").write_text(yaml.safe_dump(env))
    proc = subprocess.run([sys.executable, "-m", "pytest", "conformance/goproxy", "--env", "bad", "-q", "-p", "no:cacheprovider",
                           "-k", "not go_client and not latency"], cwd=paths.ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, f"expected failed checks (exit 1), got {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
    return json.loads((env_dir.parent / "reports" / "latest" / "results.json").read_text())


def evidence(results: dict, claim_id: str = "athens-protocol") -> str:
    claim = next(c for c in results["claims"] if c["id"] == claim_id)
    assert claim["verdict"] == "violated", claim
    return "\n".join(claim["evidence"])


@pytest.mark.parametrize("server", [Garbage], indirect=True)
def test_garbage_answers_are_violations_naming_what_came_back(env_dir, server):
    results = run_suite(env_dir, server)
    protocol = evidence(results)
    assert f"GET {server}/github.com/pkg/errors/@v/list: 200 text/html" in protocol
    assert "expected canonical, non-pseudo versions only, found ['<html><body><h1>502']" in protocol
    assert "expected a valid module zip, found: not a zip file" in protocol
    assert f"GET {server}/example.com/gauntlet/no-such-module-7f3c/@v/list: 200 text/html" in protocol and "expected 404 or 410" in protocol
    assert f"GET {server}/sumdb/sum.gauntlet.invalid/supported: 200" in protocol
    assert "Traceback" not in protocol
    assert f"GET {server}/version: 200 text/html" in evidence(results, "athens-replicas-answer")


@pytest.mark.parametrize("server", [Slow], indirect=True)
def test_slow_target_is_a_violation_not_a_hang(env_dir, server):
    started = time.monotonic()
    results = run_suite(env_dir, server, timeout_s=0.3)
    assert f"GET {server}/github.com/pkg/errors/@v/list: no answer in time (ReadTimeout)" in evidence(results)
    assert time.monotonic() - started < 120


def test_refused_connection_is_a_violation_naming_the_url(env_dir):
    url = closed_port()
    results = run_suite(env_dir, url)
    assert f"GET {url}/github.com/pkg/errors/@v/list: ConnectError" in evidence(results)
    assert f"GET {url}/sumdb/sum.golang.org/supported: ConnectError" in evidence(results)
    assert f"GET {url}/healthz: ConnectError" in evidence(results, "athens-replicas-answer")
    protocol = next(c for c in results["claims"] if c["id"] == "athens-protocol")
    assert [(f["subject"], f["down"]) for f in protocol["findings"]] == [("replica", True)], protocol["findings"]
    assert all("[replica" not in line for line in protocol["evidence"]), "the replica down is a finding, not the violation"
