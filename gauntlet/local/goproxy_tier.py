"""The GOPROXY tier's processes: render configurations, start, stop, probe.

edge (nginx: TLS, HTTP/2, cache) -> lb (HAProxy, active health checks) ->
replica-1, replica-2 (nginx serving the module corpus) -> corpus on disk;
for athens.gauntlet.localhost the edge goes to the lb's frontend of Athens' pods on the
cluster tier's real nodes instead (their NodePorts, when ``local up --cluster`` runs them);
the replicas pass /sumdb/ on to sumdb (golang.org/x/mod/sumdb's server, the
corpus' go.sum as its records); storage (nginx, HTTPS) serves the corpus as
blob storage, where Athens' redirect download mode sends clients.

Every process runs in the foreground in its own session, logs under
``state_dir()/goproxy/logs`` and has a pid file under ``.../run``; ``down``
signals only process groups whose leader's command line names our config.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import jinja2

from gauntlet.edge.client import unverified_tls
from gauntlet.exceptions import LocalStackError
from gauntlet.local import certs, corpus, install, processes, tier_state
from gauntlet.local.faults import FAULTS
from gauntlet.local.kube_nodes import REAL_NODES
from gauntlet.local.ports import HOST, PORTS, address
from gauntlet.paths import ROOT, state_dir
from gauntlet.waiting import until

EDGE_URL = f"https://{HOST}:{PORTS['edge https']}"
CDN_VOCABULARIES = ("frontdoor", "cloudfront")
#: The checksum database the replicas proxy; its verifier key is ``gauntlet-sumdb -print-key``.
SUMDB_NAME = "sum.gauntlet.localhost"
_CLOSED = f"{HOST}:9"  # nothing listens there: an upstream that is down
#: The athens/athens Service's nodePort and healthCheckNodePort (fixtures/manifests/athens.yaml): the load balancer's
#: way to Athens' pods on the cluster tier's real nodes.
ATHENS_NODE_PORT, ATHENS_HEALTH_NODE_PORT = 30300, 30301
_TEMPLATES = ROOT / "fixtures" / "local"
_HEALTHY_WITHIN_S = 30.0


@dataclass(frozen=True)
class Component:
    """One process of the tier."""

    name: str
    listeners: tuple[str, ...]  # keys of PORTS; the first is its address
    health_url: str

    @property
    def address(self) -> str:
        return address(self.listeners[0])


COMPONENTS = (
    Component("sumdb", ("sumdb",), f"http://{address('sumdb')}/latest"),
    Component("storage", ("storage",), f"https://{address('storage')}/healthz"),
    Component("replica-1", ("replica-1",), f"http://{address('replica-1')}/healthz"),
    Component("replica-2", ("replica-2",), f"http://{address('replica-2')}/healthz"),
    Component("lb", ("lb", "lb stats", "lb athens pods"), f"http://{address('lb stats')}/healthz"),
    Component("edge", ("edge https", "edge http"), f"{EDGE_URL}/healthz"),
)


def tier_dir() -> Path:
    return state_dir() / "goproxy"


def _conf(name: str) -> Path:
    return tier_dir() / "conf" / (f"{name}.cfg" if name == "lb" else f"{name}.nginx.conf")


def _mark(name: str) -> str:
    """What the command line of our process for this component holds: its config, or the sumdb binary."""
    return str(install.sumdb_binary()) if name == "sumdb" else str(_conf(name))


def _pid_file(name: str) -> Path:
    return tier_dir() / "run" / f"{name}.pid"


def _log(name: str) -> Path:
    return tier_dir() / "logs" / f"{name}.log"


def _state_file() -> Path:
    return tier_dir() / "run" / "state.json"


def render(faults: Sequence[str] = (), cdn: str = "frontdoor") -> dict[str, str]:
    """The configuration text of each component for these fault profiles and CDN vocabulary."""
    if cdn not in CDN_VOCABULARIES:
        raise LocalStackError(f"unknown CDN vocabulary {cdn!r}: expected one of {', '.join(CDN_VOCABULARIES)}")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    base = tier_dir()
    common = {
        "faults": sorted(faults),
        "user": "root" if os.geteuid() == 0 else None,
        "run_dir": base / "run",
        "log_dir": base / "logs",
    }
    texts = {}
    for name in ("replica-1", "replica-2"):
        broken = name == "replica-2" and "replica-500" in faults
        storage = corpus.corpus_dir()
        texts[name] = env.get_template("replica.nginx.conf.j2").render(
            common, name=name, address=address(name), tmp_dir=base / "tmp" / name, ready_marker=corpus.READY_MARKER,
            broken_storage=broken, storage=storage.with_name("corpsu") if broken else storage,
            replica_js=_TEMPLATES / "replica.js", sumdb_name=SUMDB_NAME, sumdb_address=address("sumdb"),
            closed_address=_CLOSED, storage_address=address("storage"),
        )
    texts["storage"] = env.get_template("storage.nginx.conf.j2").render(
        common, address=address("storage"), tmp_dir=base / "tmp" / "storage", storage=corpus.corpus_dir(),
        cert=certs.edge_cert(),
    )
    texts["lb"] = env.get_template("haproxy.cfg.j2").render(
        common, lb_address=address("lb"), stats_address=address("lb stats"),
        replicas=[(name, address(name)) for name in ("replica-1", "replica-2")],
        pods_address=address("lb athens pods"), pods_health_port=ATHENS_HEALTH_NODE_PORT,
        pods=[(node.name, f"{node.ip}:{ATHENS_NODE_PORT}") for node in REAL_NODES],
    )
    texts["edge"] = env.get_template("edge.nginx.conf.j2").render(
        common, cdn=cdn, tmp_dir=base / "tmp" / "edge", cache_dir=base / "edge-cache",
        edge_js=_TEMPLATES / "edge.js", lb_address=address("lb"), pods_lb_address=address("lb athens pods"),
        http_address=address("edge http"), https_address=address("edge https"), https_port=PORTS["edge https"],
        cert=certs.edge_cert(expired="edge-expired-cert" in faults),
    )
    return texts


def _argv(name: str) -> list[str]:
    if name == "sumdb":
        return [_mark(name), "-listen", address(name), "-name", SUMDB_NAME, "-go-sum", str(corpus.SUMS_FILE)]
    if name == "lb":
        return [str(install.HAPROXY), "-db", "-f", str(_conf(name))]
    return [str(install.NGINX), "-p", str(tier_dir()), "-e", str(_log(name)), "-c", str(_conf(name))]


def fronts(endpoint_urls: Iterable[str]) -> bool:
    """Whether one of these URLs is this tier's edge: an environment that names it targets this tier's processes."""
    return any(url.rstrip("/") == EDGE_URL for url in endpoint_urls)


def running_pid(name: str) -> int | None:
    """The pid of our process for this component, if it runs (its command line names our config)."""
    return processes.running_pid(_pid_file(name), _mark(name))  # nginx's master rewrites its argv into one string


def _start(name: str) -> subprocess.Popen:
    if name == "edge":  # a new edge starts with an empty cache: no answer survives a change of faults
        shutil.rmtree(tier_dir() / "edge-cache", ignore_errors=True)
    (tier_dir() / "tmp" / name).mkdir(parents=True, exist_ok=True)
    return processes.start(_argv(name), _log(name), pid_file=_pid_file(name))


def _healthy(component: Component, client: httpx.Client) -> bool:
    try:
        return client.get(component.health_url).status_code == 200
    except httpx.HTTPError:
        return False


def _probe_client() -> httpx.Client:
    # Health is "the process answers"; whether the edge's certificate and cipher suites are right is a
    # conformance question.
    return httpx.Client(verify=unverified_tls(), timeout=1.0)


def up(faults: Sequence[str] = (), progress: Callable[[str], None] = print, cdn: str = "frontdoor") -> dict:
    """Start what is not running, with these fault profiles; wait until every component is healthy."""
    unknown = sorted(set(faults) - FAULTS.keys())
    if unknown:
        raise LocalStackError(f"unknown fault profile(s) {', '.join(unknown)}: known are {', '.join(FAULTS)}")
    install.install(progress)
    configs = render(sorted(set(faults)), cdn)
    # The configurations' digest too: a tier started from another checkout's templates is not this one.
    digest = hashlib.sha256(json.dumps([configs, _argv("sumdb")], sort_keys=True).encode()).hexdigest()
    wanted = {"faults": sorted(set(faults)), "cdn": cdn, "configs": digest}
    if tier_state.read(_state_file()) != wanted and any(running_pid(c.name) for c in COMPONENTS):
        progress("fault profiles or configurations changed: restarting the GOPROXY tier")
        down()
    to_start = [c for c in COMPONENTS if running_pid(c.name) is None]
    for component in to_start:
        for listener in component.listeners:
            processes.ensure_free(HOST, PORTS[listener], listener)
    for sub in ("conf", "run", "logs", "tmp"):
        (tier_dir() / sub).mkdir(parents=True, exist_ok=True)
    tier_state.write(_state_file(), wanted)
    for name, text in configs.items():
        _conf(name).write_text(text)
    started = {}
    for component in to_start:
        progress(f"starting {component.name} on {component.address}")
        started[component.name] = _start(component.name)
    _wait_healthy(started)
    return status()


def _wait_healthy(started: dict[str, subprocess.Popen]) -> None:
    sick: list[Component] = []
    with _probe_client() as client:

        def healthy() -> bool:
            nonlocal sick
            dead = [name for name, proc in started.items() if proc.poll() is not None]
            if dead:
                raise LocalStackError(f"{', '.join(dead)} exited at start: see {_log(dead[0])}")
            sick = [c for c in COMPONENTS if not _healthy(c, client)]
            return not sick

        until(healthy, _HEALTHY_WITHIN_S, 0.1, lambda: f"{', '.join(c.name for c in sick)} not healthy within "
              f"{_HEALTHY_WITHIN_S:.0f} s ({sick[0].health_url}): see {_log(sick[0].name)}", error=LocalStackError)


def down() -> None:
    """Stop the processes this tier started (by their pid files), and nothing else."""
    for component in reversed(COMPONENTS):
        processes.stop(_pid_file(component.name), _mark(component.name))
    _state_file().unlink(missing_ok=True)


def status() -> dict:
    """Each component's health, address and pid, and what clients need to reach the edge."""
    state = tier_state.read(_state_file()) or {"faults": [], "cdn": "frontdoor"}
    pids = {c.name: running_pid(c.name) for c in COMPONENTS}
    with _probe_client() as client:
        components = {
            c.name: {"healthy": pids[c.name] is not None and _healthy(c, client), "address": c.address, "pid": pids[c.name]}
            for c in COMPONENTS
        }
    return {
        "components": components,
        "edge_url": EDGE_URL,
        "ca_bundle": str(certs.ca_bundle()),
        "faults": state["faults"],
        "cdn": state["cdn"],
        "goproxy_upstream": corpus.corpus_dir().as_uri(),
        "replica_software": "nginx serving the file-based GOPROXY (Athens is not installable from the module proxy)",
    }
