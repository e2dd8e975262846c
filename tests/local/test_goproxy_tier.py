"""The healthy GOPROXY tier: real go client through the edge, edge behaviour, failover, lifecycle."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

import gauntlet.local as local
from gauntlet.exceptions import LocalStackError
from gauntlet.goproxy.goclient import json_records
from gauntlet.local import corpus, goproxy_tier
from gauntlet.local.goproxy_tier import COMPONENTS, render
from gauntlet.local.ports import HOST, PORTS
from gauntlet.local.processes import ensure_free

pytestmark = pytest.mark.local_stack

TOML_LIST = "/github.com/!burnt!sushi/toml/@v/list"
TOML_INFO = "/github.com/!burnt!sushi/toml/@v/v1.4.0.info"


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _lb_server_states() -> dict[str, str]:
    """HAProxy's view of the replicas, from its stats CSV: server name -> UP/DOWN/..."""
    csv = httpx.get(f"http://127.0.0.1:{PORTS['lb stats']}/stats;csv", timeout=2).text.splitlines()
    header = csv[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in csv[1:] if line]
    return {r["svname"]: r["status"] for r in rows if r["pxname"] == "replicas" and r["svname"].startswith("replica")}


@pytest.mark.skipif(shutil.which("go") is None, reason="no go command on PATH")
def test_go_client_downloads_every_corpus_version_through_the_edge(stack: dict, tmp_path: Path) -> None:
    modules = corpus.load_modules()
    env = dict(
        os.environ, GOPROXY=stack["edge_url"], GOSUMDB="off", GOTOOLCHAIN="local", SSL_CERT_FILE=stack["ca_bundle"],
        GOMODCACHE=str(tmp_path / "modcache"), GOFLAGS="-modcacherw",
    )
    proc = subprocess.run(["go", "mod", "download", "-json", *map(str, modules)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    records = list(json_records(proc.stdout))
    sums = corpus.load_sums()
    failures = [f"{r['Path']}@{r['Version']}: {r.get('Error') or 'hash differs from go.sum'}" for r in records
                if r.get("Error") or sums[f"{r['Path']} {r['Version']}"] != r["Sum"]
                or sums[f"{r['Path']} {r['Version']}/go.mod"] != r["GoModSum"]]
    assert len(records) == len(modules) and not failures, proc.stderr + "\n".join(failures)


def test_status_names_every_component_healthy(stack: dict) -> None:
    assert {c.name: stack["components"][c.name]["healthy"] for c in COMPONENTS} == {c.name: True for c in COMPONENTS}
    assert stack["edge_url"] == "https://127.0.0.1:8443" and Path(stack["ca_bundle"]).is_file()
    assert stack["faults"] == [] and stack["goproxy_upstream"].startswith("file://")


def test_edge_serves_http2_with_hsts_and_redirects_plain_http(edge: httpx.Client) -> None:
    resp = edge.get(TOML_INFO)
    assert resp.http_version == "HTTP/2" and resp.json()["Version"] == "v1.4.0"
    assert resp.headers["strict-transport-security"] == "max-age=31536000"
    plain = httpx.get(f"http://127.0.0.1:{PORTS['edge http']}{TOML_LIST}", follow_redirects=False)
    assert plain.status_code == 301 and plain.headers["location"] == f"https://127.0.0.1:8443{TOML_LIST}"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_edge_refuses_tls_below_1_2(stack: dict) -> None:
    ctx = ssl.create_default_context(cafile=stack["ca_bundle"])
    ctx.minimum_version, ctx.maximum_version = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError), socket.create_connection(("127.0.0.1", PORTS["edge https"]), timeout=5) as raw:
        ctx.wrap_socket(raw, server_hostname="localhost")


def _fresh(path: str) -> str:
    """A cache key the edge has not seen: the origin ignores the query, the edge keys on it."""
    return f"{path}?nonce={uuid.uuid4().hex}"


def test_edge_caches_immutable_artefacts_and_announces_age(edge: httpx.Client) -> None:
    url = _fresh(TOML_INFO)
    first, second = edge.get(url), edge.get(url)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("TCP_MISS", "TCP_HIT")
    assert second.headers["cache-control"] == "public, max-age=604800, immutable"
    time.sleep(1.1)
    assert int(edge.get(url).headers["age"]) >= 1


def test_edge_never_stores_lists(edge: httpx.Client) -> None:
    for _ in range(2):
        resp = edge.get(TOML_LIST)
        assert resp.headers["x-cache"] == "PRIVATE_NOSTORE", resp.headers
        assert resp.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    assert resp.text.split() == ["v1.2.1", "v1.3.2", "v1.4.0", "v1.5.0"]


def test_edge_speaks_cloudfront_when_asked(stack: dict) -> None:
    status = local.up(cdn="cloudfront", progress=lambda _: None)
    with httpx.Client(base_url=status["edge_url"], verify=ssl.create_default_context(cafile=status["ca_bundle"])) as client:
        url = _fresh(TOML_INFO)
        answers = [client.get(url).headers["x-cache"] for _ in range(2)]
        assert answers == ["Miss from cloudfront", "Hit from cloudfront"]
        assert client.get("/example.com/nope/@v/v1.0.0.info").headers["x-cache"] == "Error from cloudfront"


def test_a_killed_replica_costs_no_client_request(stack: dict, edge: httpx.Client) -> None:
    lists = [f"/{corpus._escape(m.path)}/@v/list" for m in corpus.load_modules()]  # never cached: every one reaches a replica
    victim = stack["components"]["replica-1"]["pid"]
    killer = threading.Timer(2.0, os.kill, (victim, signal.SIGKILL))
    failures, deadline = [], time.monotonic() + 20
    killer.start()
    try:
        for i in range(200):  # 200 requests over ~10 s
            assert time.monotonic() < deadline, "the request loop ran out of time"
            resp = edge.get(lists[i % len(lists)])
            if resp.status_code != 200:
                failures.append(f"{resp.request.url}: {resp.status_code}")
            time.sleep(0.05)
    finally:
        killer.join()
    assert not _alive(victim)
    assert _lb_server_states()["replica-1"].startswith("DOWN"), "HAProxy's check did not mark the dead replica down"
    assert failures == [], f"{len(failures)} of 200 requests failed while replica-1 died: {failures[:5]}"
    restored = local.up(progress=lambda _: None)
    assert restored["components"]["replica-1"]["healthy"] and _lb_server_states()["replica-1"] == "UP"


def test_up_twice_keeps_the_same_processes(stack: dict) -> None:
    again = goproxy_tier.up(progress=lambda _: None)
    assert {n: c["pid"] for n, c in again["components"].items()} == {n: c["pid"] for n, c in stack["components"].items()}


def test_changing_faults_restarts_with_the_new_ones(stack: dict) -> None:
    faulted = goproxy_tier.up(["lb-no-healthcheck"], progress=lambda _: None)
    assert faulted["faults"] == ["lb-no-healthcheck"]
    assert faulted["components"]["lb"]["pid"] != stack["components"]["lb"]["pid"]


def test_down_leaves_no_process_and_frees_every_port(stack: dict) -> None:
    pids = [stack["components"][c.name]["pid"] for c in COMPONENTS]
    goproxy_tier.down()
    assert [pid for pid in pids if _alive(pid)] == []
    for listener, port in PORTS.items():
        ensure_free(HOST, port, listener)
    after = goproxy_tier.status()["components"]
    assert all(not after[c.name]["healthy"] and after[c.name]["pid"] is None for c in COMPONENTS)


def test_a_port_in_use_is_a_clear_error(stack: dict) -> None:
    goproxy_tier.down()
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the edge's closed connections linger
        squatter.bind(("127.0.0.1", PORTS["edge https"]))
        squatter.listen()
        with pytest.raises(LocalStackError, match=r"port 127\.0\.0\.1:8443 \(edge https\) is already in use"):
            local.up(progress=lambda _: None)
    after = goproxy_tier.status()["components"]
    assert all(after[c.name]["pid"] is None for c in COMPONENTS), "up() started something anyway"


def test_rendered_configs_carry_each_fault_marker() -> None:
    goproxy_faults = [name for name, fault in local.FAULTS.items() if fault.tier == "goproxy"]
    for name in goproxy_faults:
        assert f"FAULT {name}" in "".join(render([name]).values()), name
    assert all(f.breaks for f in local.FAULTS.values()), "every fault profile names the claims it breaks"
