"""The locustfiles and the guard, run by Locust's own CLI in its own processes against a
throwaway HTTP server on loopback: the request bound is exact, the time bound holds whatever
the command line says, the stop condition ends a failing run, each user asks what it should.

Locust never runs in this process (it monkey-patches with gevent): ``run_profile`` and the
plain ``locust`` command start it as a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gauntlet import paths, run_folder
from gauntlet.catalogue import LOAD_KINDS
from gauntlet.environment import load_environment
from gauntlet.load.runner import run_profile

pytestmark = pytest.mark.slow


class Target(ThreadingHTTPServer):
    """A loopback server answering the paths the three users ask for; counts every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.status = 200
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def total(self) -> int:
        return sum(self.hits.values())

    def answer(self, path: str) -> tuple[int, bytes]:
        if self.status != 200:
            return self.status, b"boom\n"
        if "/@v/" in path:
            module, _, rest = path[1:].partition("/@v/")
            if rest == "list":
                return 200, b"v1.0.0\n"
            version, _, ext = rest.rpartition(".")
            return 200, {"info": json.dumps({"Version": version}).encode(), "mod": f"module {module}\n".encode(),
                         "zip": b"PK\x03\x04 not really a zip"}[ext]
        if path.startswith("/api/v1/packages/search"):
            return 200, json.dumps({"packages": [{"name": "nginx", "repository": {"kind": 0, "name": "bitnami"}}]}).encode()
        return 200, b"ok\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Target

    def do_GET(self) -> None:  # noqa: N802
        with self.server.lock:
            self.server.hits[self.path] += 1
        status, body = self.server.answer(self.path)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def target() -> Iterator[Target]:
    server = Target()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def load_env(write_env, env_data, target):
    """The sample environment aimed at the throwaway server, with its smoke profile changed per test."""

    def make(**profile):
        env_data["endpoints"][0]["url"] = target.url
        env_data["goproxy"] = {"endpoints": ["edge"], "probe_set": [{"module": "example.com/a", "version": "v1.0.0"},
                                                                  {"module": "example.com/b", "version": "v1.0.0"}]}
        base = {"user": "web", "endpoint": "edge", "users": 4, "spawn_rate": 100, "wait_s": [0, 0.01],
                "duration_s": 20, "max_requests": 100000, "stop": {"error_rate": 0.05, "for_s": 2},
                "slos": [{"metric": "error_rate", "max": 0.01}]}
        env_data["load_profiles"]["smoke"] = {**base, **profile}
        env_data["claims"][1]["evidence"] = [f"{LOAD_KINDS[slo['metric']][0]}@smoke" for slo in env_data["load_profiles"]["smoke"]["slos"]]
        write_env(env_data)
        return load_environment("sample")

    return make


def run(env, workers: int = 0):
    folder = run_folder.new_run(env, "load", "test")
    started = time.monotonic()
    results = run_profile(env, folder, "smoke", workers=workers)
    outcome = json.loads((folder.dir / "load" / "smoke" / "outcome.json").read_text())
    return results, outcome, time.monotonic() - started, folder


def test_the_request_bound_is_exact(load_env, target):
    results, outcome, took, folder = run(load_env(max_requests=300))
    assert outcome["ended_by"] == "max_requests" and outcome["elapsed_s"] < 20
    assert target.total == 300, f"the target saw {target.total} requests, the bound is 300"
    assert results[0].details["measured"]["requests"] == 300 and results[0].outcome == "passed"


def test_the_request_bound_holds_across_workers(load_env, target):
    results, outcome, took, folder = run(load_env(max_requests=300), workers=2)
    assert outcome["ended_by"] == "max_requests"
    assert target.total == 300, f"the target saw {target.total} requests, the bound is 300"
    assert [r.id for r in results] == ["load:smoke:error_rate"] and results[0].details["workers"] == 2
    assert results[0].details["measured"]["requests"] == 300, "the workers' last reports reached the master"


def test_the_time_bound_ends_the_run(load_env, target):
    results, outcome, took, folder = run(load_env(duration_s=3, wait_s=[0.05, 0.1]))
    assert outcome["ended_by"] == "duration" and 2.5 <= outcome["elapsed_s"] <= 4.5
    assert took < 15 and results[0].outcome == "passed"
    timeline = json.loads((folder.dir / "timeline-load-smoke.json").read_text())
    assert len(timeline["series"][1]["points"]) >= 2, "an rps point a second"


def test_the_stop_condition_ends_a_failing_run_early(load_env, target):
    target.status = 500
    results, outcome, took, folder = run(load_env(duration_s=20))
    assert outcome["ended_by"] == "stop_condition" and outcome["elapsed_s"] < 6
    assert outcome["stop"]["metric"] == "error_rate" and outcome["stop"]["value"] == 1.0
    by_id = {r.id: r for r in results}
    assert by_id["load:smoke:error_rate"].outcome == "failed"
    assert by_id["load:smoke:error_rate"].message.startswith("error rate 100.0 % > 1 %")
    stop = by_id["load:smoke:stop"]
    assert stop.outcome == "failed" and stop.claims == ("sample-fast",)
    assert stop.message.startswith("stop condition: error rate 100.0 % > 5 % for 2 s")


def test_the_goproxy_user_downloads_list_info_mod_zip(load_env, target):
    results, outcome, took, folder = run(load_env(user="goproxy", max_requests=80))
    assert results[0].outcome == "passed", results[0].message
    for path in ("/example.com/a/@v/list", "/example.com/a/@v/v1.0.0.info", "/example.com/a/@v/v1.0.0.mod", "/example.com/a/@v/v1.0.0.zip"):
        assert target.hits[path] > 0, f"{path} never requested: {dict(target.hits)}"
    assert outcome["final"]["requests"] == 80 and outcome["failures"] == []
    assert (folder.dir / "load" / "smoke" / "locust.html").stat().st_size > 10_000, "Locust's own HTML report is kept"


def test_the_artifacthub_user_browses_searches_and_opens_a_package(load_env, target):
    results, outcome, took, folder = run(load_env(user="artifacthub", paths=["/", "/api/v1/packages/stats"],
                                                  queries=["nginx"], max_requests=120))
    assert results[0].outcome == "passed", results[0].message
    hits = target.hits
    assert hits["/"] and hits["/api/v1/packages/stats"] and hits["/api/v1/packages/helm/bitnami/nginx"]
    assert any(p.startswith("/api/v1/packages/search?ts_query_web=nginx") for p in hits)


def test_plain_locust_is_bounded_by_the_profile_too(load_env, target, tmp_path):
    """Without the shape and with a longer --run-time, the guard still ends the run at duration_s."""
    load_env(duration_s=3)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "locust", "-f", str(paths.ROOT / "load" / "web.py"), "--headless",
                           "-u", "2", "-r", "2", "-t", "60s", "--gauntlet-env", "sample", "--gauntlet-out", str(tmp_path)],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert time.monotonic() - started < 15
    assert json.loads((tmp_path / "outcome.json").read_text())["ended_by"] == "duration"


def test_remote_workers_join_a_master_as_load_readme_says(load_env, target):
    """``--master-bind``: only the master starts; a worker started by hand (another machine, a
    Kubernetes Job) joins it with the command of load/README.md."""
    from gauntlet.load.runner import free_port

    env = load_env(max_requests=200)
    port = free_port()
    folder = run_folder.new_run(env, "load", "test")
    results: list = []
    master = threading.Thread(target=lambda: results.extend(
        run_profile(env, folder, "smoke", workers=1, remote=f"127.0.0.1:{port}")))
    master.start()
    worker = subprocess.Popen([sys.executable, "-m", "locust", "-f", "load/web.py,load/shape.py", "--worker",
                               "--master-host", "127.0.0.1", "--master-port", str(port), "--gauntlet-env", "sample"],
                              cwd=paths.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        master.join(timeout=90)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    outcome = json.loads((folder.dir / "load" / "smoke" / "outcome.json").read_text())
    assert outcome["ended_by"] == "max_requests" and target.total == 200
    assert [r.outcome for r in results] == ["passed"]


def test_an_exception_in_user_code_is_an_error_not_a_verdict(load_env, env_data, write_env, target):
    """A bug in the load user (here: a module path the go command cannot encode, so escape() raises
    before any request) shows as error checks naming the exception, never as a verdict."""
    load_env(user="goproxy", duration_s=3)
    env_data["goproxy"]["probe_set"] = [{"module": "example.com/bad!path", "version": "v1.0.0"}]
    write_env(env_data)
    results, outcome, took, folder = run(load_environment("sample"))
    assert [r.outcome for r in results] == ["error"]
    assert "the load user raised an exception" in results[0].message and "not allowed" in results[0].message
    assert target.total == 0
