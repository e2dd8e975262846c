"""Fixtures of the chaos tests: a recording Kubernetes API on loopback, and environments pointing at it.

The refusal tests run the real command line against :class:`RecordingKube`, a small HTTP
server speaking the few read endpoints the checks use, which records every request: a
refusal "before touching the cluster" is then a list of requests with no write in it (or
no request at all). The behaviour of the experiments themselves is tested against the
real control plane of the local stack (tests/local/test_chaos_cluster.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

LABELS = {"app.kubernetes.io/name": "athens"}


def _pod(name: str, ns: str, node: str, labels: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels, "uid": f"uid-{name}",
                         "creationTimestamp": "2026-01-01T00:00:00Z",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "athens-abc",
                                              "uid": "uid-rs", "controller": True}]},
            "spec": {"nodeName": node, "containers": [{"name": "athens", "image": "gomods/athens:v0.15.4"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}


class RecordingKube(ThreadingHTTPServer):
    """An API server that answers reads from canned objects and records every request."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str]] = []
        self.pods = [_pod(f"athens-abc-{i}", "athens", f"node-{i}", LABELS) for i in range(3)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]

    def answer(self, path: str, query: dict) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if path.rstrip("/") == "/version":
            return 200, {"major": "1", "minor": "36", "gitVersion": "v1.36.3", "gitCommit": "0" * 40, "gitTreeState": "clean",
                         "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.25.0", "compiler": "gc",
                         "platform": "linux/amd64"}
        if parts[:3] == ["apis", "apps", "v1"] and len(parts) == 7 and parts[5] == "deployments":
            return 200, {"apiVersion": "apps/v1", "kind": "Deployment",
                         "metadata": {"name": parts[6], "namespace": parts[4]},
                         "spec": {"replicas": 3, "selector": {"matchLabels": LABELS},
                                  "template": {"metadata": {"labels": LABELS},
                                               "spec": {"containers": [{"name": "athens", "image": "athens"}]}}}}
        if parts[:2] == ["api", "v1"] and parts[-1] == "pods":
            ns = parts[3] if len(parts) == 5 else None
            wanted = dict(kv.split("=", 1) for kv in (query.get("labelSelector", [""])[0]).split(",") if kv)
            items = [p for p in self.pods if (ns is None or p["metadata"]["namespace"] == ns)
                     and all(p["metadata"]["labels"].get(k) == v for k, v in wanted.items())]
            return 200, {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items}
        return 200, {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": []}


class _Handler(BaseHTTPRequestHandler):
    server: RecordingKube

    def _reply(self) -> None:
        split = urlsplit(self.path)
        self.server.requests.append((self.command, self.path))
        status, body = self.server.answer(split.path, parse_qs(split.query)) if self.command == "GET" else (200, {})
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _reply

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def kube_api() -> Iterator[RecordingKube]:
    """A recording Kubernetes API on loopback."""
    server = RecordingKube()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _kubeconfig_text(server: str, context: str = "fake", current: str = "fake") -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "users": [{"name": "fake", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": context, "context": {"cluster": "fake", "user": "fake"}},
                     {"name": "elsewhere", "context": {"cluster": "fake", "user": "fake"}}],
    })


def _chaos_env(name: str, api_server: str, kubeconfig: Path, claims: list[dict], **chaos: object) -> dict:
    """An Athens-like environment on ``api_server`` whose claims athens-pods-recover and athens-runs-on-aks the chaos
    experiments (pod loss, node drain) test."""
    return {
        "name": name, "description": "an Athens cluster on loopback, for the chaos guard tests",
        "production": bool(chaos.pop("production", False)),
        "kubernetes": {"context": "fake", "api_server": api_server, "kubeconfig": str(kubeconfig),
                       "namespaces": ["athens"],
                       "workloads": [{"namespace": "athens", "name": "athens", "replicas": 3, "pdb": True}]},
        "chaos": {"allowed": True, "confirm": False, "namespaces": ["athens"], "max_pods_per_action": 3,
                  "steady_state_deadline_s": 30, **chaos},
        "claims": claims,
    }


@pytest.fixture
def guarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kube_api: RecordingKube,
            write_env: Callable[[dict], Path], shipped_claim: Callable[..., dict]) -> Callable[..., Path]:
    """Write an environment on the recording API (chaos policy fields as keywords); returns its kubeconfig."""
    monkeypatch.setenv("GAUNTLET_LOCK_DIR", str(tmp_path / "locks"))

    def make(name: str = "fakeprod", server: str | None = None, kubeconfig_server: str | None = None,
             current: str = "fake", **chaos: object) -> Path:
        path = tmp_path / f"{name}.kubeconfig"
        path.write_text(_kubeconfig_text(kubeconfig_server or server or kube_api.url, current=current))
        claims = [shipped_claim(c, "chaos") for c in ("athens-pods-recover", "athens-runs-on-aks")]
        write_env(_chaos_env(name, server or kube_api.url, path, claims, **chaos), name)
        return path

    return make
