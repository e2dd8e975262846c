"""Fixtures of the Kubernetes probes' and suite's tests: a fake API server on loopback, kubeconfigs for it,
and a process environment that never contacts anything but loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from gauntlet.kubernetes import client as kube_client

Route = tuple[int, dict]


class FakeApi:
    """Canned answers by path (``GET /api/v1/namespaces/castle/pods``); a 404 Status for anything else."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.default: Route | None = None
        self.requests: list[tuple[str, str]] = []
        self.watches: dict[str, list[dict]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str, body: dict, status: int = 200, method: str = "GET") -> None:
        self.routes[(method, path)] = (status, body)

    def watch(self, path: str, events: list[dict]) -> None:
        """A watch of ``path`` (``?watch=true``) streams these events, then ends."""
        self.watches[path] = events

    def answer_all(self, body: dict, status: int) -> None:
        """Every request not routed gets this answer (e.g. a 403 Status)."""
        self.default = (status, body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                path = urlsplit(self.path).path
                fake.requests.append((self.command, self.path))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if "watch=true" in self.path.lower() and path in fake.watches:
                    lines = b"".join(json.dumps(e).encode() + b"\n" for e in fake.watches[path])
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(lines)))
                    self.end_headers()
                    self.wfile.write(lines)
                    return
                status, body = fake.routes.get((self.command, path)) or fake.default or (
                    404, status_body(404, "NotFound", f"the server could not find the requested resource ({path})"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PATCH = do_POST = do_DELETE = _serve

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def status_body(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason, "code": code}


def write_kubeconfig(path: Path, server: str, context: str = "fake", token: str = "gauntlet-test") -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": context, "cluster": {"server": server}}],
        "users": [{"name": f"{context}-user", "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": f"{context}-user"}}],
    }))
    return path


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    return _closed_port()


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Callable[..., Path]:
    """Write a kubeconfig (token user) for ``server`` and ``context``; returns its path."""
    count = iter(range(1000))

    def make(server: str, context: str = "fake") -> Path:
        return write_kubeconfig(tmp_path / f"kubeconfig-{next(count)}", server, context)

    return make


@pytest.fixture
def status() -> Callable[[int, str, str], dict]:
    """A Kubernetes Status body (what the API answers with an error)."""
    return status_body


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Only loopback API servers, no kubeconfig of this machine, a fresh client cache per test."""
    monkeypatch.setenv(kube_client.LOOPBACK_ONLY_ENV, "1")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.setattr(kube_client, "_clusters", {})
    yield


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    fake = FakeApi()
    thread = threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.answer("/version/", {"major": "1", "minor": "36", "gitVersion": "v1.36.3-fake"})
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def fake_config(fake_api: FakeApi, tmp_path: Path) -> dict:
    """The activities' configuration for the fake API server."""
    return {"kubeconfig": str(write_kubeconfig(tmp_path / "kubeconfig", fake_api.url)), "kube_context": "fake",
            "kube_api_server": fake_api.url, "kube_timeout_s": 5}


@pytest.fixture
def object_list() -> Callable[[str, list[dict]], dict]:
    def make(kind: str, items: list[dict]) -> dict:
        return {"kind": f"{kind}List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}

    return make
