"""Fixtures of the hostile cases: small loopback targets that answer badly on purpose, environments pointing
at them, the command line run with a timeout of its own, and a look at what is left running.

The targets (:class:`Target` with a behaviour) are test fixtures, not imitations of a component:
an infinite body, a trickle of one byte every two seconds, a slow answer, an echo of the request's
headers. Every request they get is recorded with its time, so a test can tell whether anything
reached them after gauntlet exited. The recording Kubernetes API is the chaos tests' own
(tests/chaos/conftest.py), loaded from there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from gauntlet import paths

_spec = importlib.util.spec_from_file_location("chaos_fixtures", Path(__file__).parents[1] / "chaos" / "conftest.py")
chaos_fixtures = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(chaos_fixtures)  # type: ignore[union-attr]
kube_api = chaos_fixtures.kube_api
guarded = chaos_fixtures.guarded

MODULE, VERSION = "github.com/pkg/errors", "v0.9.1"


class Target(ThreadingHTTPServer):
    """A loopback HTTP target answering with ``behaviour``; records (time, method, path, headers) of every request."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, behaviour: Callable[[Handler], None]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.behaviour = behaviour
        self.requests: list[tuple[float, str, str, dict[str, str]]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def after(self, t: float) -> list[tuple[float, str, str, dict[str, str]]]:
        with self.lock:
            return [r for r in self.requests if r[0] > t]


class Handler(BaseHTTPRequestHandler):
    server: Target
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests.append((time.time(), self.command, self.path, dict(self.headers)))
        try:
            self.server.behaviour(self)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass

    def answer(self, status: int, body: bytes, kind: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def infinite(handler: Handler) -> None:
    """200, then a body that never ends (no length, bytes until the client hangs up)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/octet-stream")
    handler.send_header("Connection", "close")
    handler.end_headers()
    chunk = b"v1.0.0\n" * 9362  # 64 KiB of a version list, for ever
    while True:
        handler.wfile.write(chunk)


def trickle(handler: Handler) -> None:
    """The whole answer, status line included, one byte every two seconds."""
    body = b"v0.9.1\n"
    raw = (f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    handler.close_connection = True
    for byte in raw:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(2.0)


def slow(handler: Handler) -> None:
    """Garbage after a second: a conformance run against it lasts minutes."""
    time.sleep(1.0)
    handler.answer(200, b"<html>busy</html>", "text/html")


def quick(handler: Handler) -> None:
    handler.answer(200, b"ok\n")


def echo(handler: Handler) -> None:
    """200 with the request's headers in the body, as text, as a Python repr and as JSON (what a debug endpoint
    or a misconfigured proxy does): a check quoting the body quotes the credentials."""
    headers = dict(sorted(handler.headers.items(), key=lambda kv: kv[0].lower() != "authorization"))  # credentials first
    text = "".join(f"{k}: {v}\n" for k, v in headers.items())
    body = f"{text}\n{text.encode()!r}\n{json.dumps(headers)}\n".encode()
    handler.answer(200, body, "text/plain")


BEHAVIOURS = {"infinite": infinite, "trickle": trickle, "slow": slow, "quick": quick, "echo": echo}


@pytest.fixture
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """A hostile target; its behaviour is the indirect parameter, by name (default: quick)."""
    server = Target(BEHAVIOURS[getattr(request, "param", "quick")])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def leftovers(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[str]]:
    """Marks every process this test starts (a variable they all inherit); returns what finds those still running."""
    mark = uuid.uuid4().hex
    monkeypatch.setenv("GAUNTLET_TEST_MARK", mark)
    return lambda exclude_groups=frozenset(): _survivors(mark, exclude_groups)


def _survivors(mark: str, exclude_groups: frozenset[int]) -> list[str]:
    """The processes still running (zombies aside) with ``mark`` in their environment, outside ``exclude_groups``."""
    found = []
    needle = f"GAUNTLET_TEST_MARK={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = (entry / "stat").read_text()
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] != "Z" and needle in environ.split(b"\0") and int(fields[2]) not in exclude_groups:
            found.append(f"{entry.name} {cmdline[:200]}")
    return found


@dataclass
class Ran:
    """A finished command: exit code, output, wall time."""

    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    argv: list[str] = field(default_factory=list)

    def assert_one_line_error(self, *fragments: str) -> str:
        assert self.returncode == 2, f"expected exit 2, got {self.returncode}: {self.stdout[-2000:]}{self.stderr[-2000:]}"
        assert "Traceback" not in self.stderr + self.stdout, self.stderr
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, f"expected one error line, got {lines}"
        for fragment in fragments:
            assert fragment in lines[0], f"expected {fragment!r} in {lines[0]!r}"
        return lines[0]


def _gauntlet(*args: str, timeout: float = 120) -> Ran:
    argv = [sys.executable, "-m", "gauntlet", *args]
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=paths.ROOT)
    return Ran(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started, argv)


@pytest.fixture
def cli() -> Callable[..., Ran]:
    """``cli(*args, timeout=120)``: ``python -m gauntlet ARGS`` to its end (a hang fails the test: TimeoutExpired)."""
    return _gauntlet


def goproxy_env(url: str, name: str = "hostile", **endpoint: object) -> dict:
    """An Athens-like environment whose only protocol endpoint is ``url``: the protocol claim (the goproxy suite's
    checks), and a load claim (the error rate of its ``steady`` profile)."""
    source = {"document": "000_b68d99118d70d8c0.txt", "quote": "public proxy"}
    return {
        "name": name, "description": "a hostile module proxy on loopback",
        "endpoints": [{"name": "proxy", "url": url, "role": "edge", **endpoint}],
        "goproxy": {"endpoints": ["proxy"], "probe_set": [{"module": MODULE, "version": VERSION}],
                    "go_sum": str(paths.ROOT / "fixtures" / "goproxy" / "go.sum"), "sumdb": ["sum.golang.org"]},
        "load_profiles": {"steady": {"user": "web", "endpoint": "proxy", "users": 4, "spawn_rate": 4, "duration_s": 60,
                                     "max_requests": 1_000_000, "wait_s": [0.05, 0.1], "stop": {"error_rate": 1.0},
                                     "slos": [{"metric": "error_rate", "max": 0.01}]}},
        "claims": [{"id": "athens-protocol", "statement": "serves go clients", "gates": True, "evidence": ["goproxy.*"],
                    "source": source},
                   {"id": "athens-answers-under-load", "statement": "answers under load", "gates": True,
                    "evidence": ["load.error-rate@steady"], "source": source}],
    }


@pytest.fixture
def hostile_env(env_dir: Path) -> Callable[..., Path]:
    """Write :func:`goproxy_env` for a URL (endpoint fields and top-level overrides as keywords) into the
    test's environments folder; returns the file."""

    def write(url: str, name: str = "hostile", limits: dict | None = None, **endpoint: object) -> Path:
        data = goproxy_env(url, name, **endpoint)
        if limits is not None:
            data["limits"] = limits
        path = env_dir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return write


class TokenEchoingKube(chaos_fixtures.RecordingKube):
    """The recording API, answering EndpointSlice lists 403 with the request's Authorization header in the body's
    message (as an API server or a proxy in front of it may)."""

    def __init__(self) -> None:
        super().__init__()
        self.RequestHandlerClass = _EchoingHandler
        self.authorization = ""

    def answer(self, path: str, query: dict) -> tuple[int, dict]:
        if "endpointslices" in path:
            return 403, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403,
                         "message": f"endpointslices.discovery.k8s.io is forbidden: the request said "
                                    f"'Authorization: {self.authorization}'\nAuthorization: {self.authorization}"}
        return super().answer(path, query)


class _EchoingHandler(chaos_fixtures._Handler):
    server: TokenEchoingKube

    def _echo(self) -> None:
        self.server.authorization = self.headers.get("Authorization", "")
        self._reply()

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _echo


class ServingKube(chaos_fixtures.RecordingKube):
    """The recording API whose athens Service has its three pods as ready endpoints: the hypothesis holds."""

    def answer(self, path: str, query: dict) -> tuple[int, dict]:
        if "endpointslices" in path:
            endpoints = [{"addresses": [f"10.0.0.{i}"], "conditions": {"ready": True},
                          "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": "athens"}}
                         for i, p in enumerate(self.pods)]
            return 200, {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSliceList", "metadata": {},
                         "items": [{"metadata": {"name": "athens-x", "namespace": "athens",
                                                 "labels": {"kubernetes.io/service-name": "athens"}},
                                    "addressType": "IPv4", "endpoints": endpoints}]}
        return super().answer(path, query)


def _serve(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def token_echoing_kube() -> Iterator[TokenEchoingKube]:
    yield from _serve(TokenEchoingKube())  # type: ignore[misc]


@pytest.fixture
def serving_kube() -> Iterator[ServingKube]:
    yield from _serve(ServingKube())  # type: ignore[misc]


_TIER_BEFORE = pytest.StashKey[bool]()
_TIER_CLEANUP = pytest.StashKey[bool]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Whether the GOPROXY tier ran before any test started it: how the hostile tests leave it."""
    from gauntlet.local import goproxy_tier

    config.stash[_TIER_BEFORE] = any(goproxy_tier.running_pid(c.name) for c in goproxy_tier.COMPONENTS)


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> dict:
    """The local GOPROXY tier up (hold /tmp/gauntlet-goproxy.lock). After the session it is left as it was before
    the session (as tests/local leaves it): stopped, or up and healthy."""
    from gauntlet.local import goproxy_tier

    config = request.config
    if not config.stash.get(_TIER_CLEANUP, False):
        config.stash[_TIER_CLEANUP] = True
        config.add_cleanup(lambda: goproxy_tier.up(progress=lambda line: None) if config.stash[_TIER_BEFORE]
                           else goproxy_tier.down())
    return goproxy_tier.up(progress=lambda line: None)


@pytest.fixture
def reports(env_dir: Path) -> Path:
    """The reports folder of the test (beside its environments folder)."""
    return env_dir.parent / "reports"
