"""Fixtures of the GOPROXY suite: one parameter per protocol endpoint and per probe; answers fetched once.

Every endpoint has one :class:`GoproxyClient` for the session: each URL is fetched
once and every check that judges it reads the same answer. At the start of the
session the answers the selected checks need are fetched concurrently, and the
real go client's downloads start in the background (they run while the protocol
checks judge). Under pytest-xdist each worker keeps its own answers.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from gauntlet import transport
from gauntlet.environment import Endpoint, Environment, Goproxy, ModuleVersion
from gauntlet.goproxy import goclient, protocol
from gauntlet.goproxy.client import GoproxyClient, PerThread
from gauntlet.goproxy.gosum import read_go_sum
from gauntlet.goproxy.sumdb import Database, database
from gauntlet.plugin import HTTP_TIMEOUT, environment_of, ssl_context
from gauntlet.urls import is_loopback

_FETCHERS = 4  # concurrent requests of the session's answer cache
_PROBES = ("probe", "probe_module", "mixed_case_probe")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The real go client's checks last: its downloads run in the background while every other check judges."""
    items.sort(key=lambda item: "go_download" in getattr(item, "fixturenames", ()))


def _endpoints(env: Environment) -> list[Endpoint]:
    goproxy = env.goproxy
    return [env.endpoint(name) for name in goproxy.endpoints] if goproxy else []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``target``: each endpoint serving the protocol; ``probe``: each module@version of the probe set;
    ``probe_module``: each module of it once; ``mixed_case_probe``: those with an upper-case letter."""
    env = environment_of(metafunc.config)
    if env.goproxy is None:
        reason = f"environment {env.name} serves no Go module proxy (no goproxy section)"
        absent = [pytest.param(None, marks=pytest.mark.skip(reason=reason))]
        for name in {"target", *_PROBES} & set(metafunc.fixturenames):
            metafunc.parametrize(name, absent, ids=["no-goproxy"])
        return
    if "target" in metafunc.fixturenames:
        targets = _endpoints(env)
        metafunc.parametrize("target", targets, ids=[e.name for e in targets], scope="session")
    if "probe" in metafunc.fixturenames:
        metafunc.parametrize("probe", env.goproxy.probe_set, ids=_probe_id)
    if "probe_module" in metafunc.fixturenames:
        modules = list(dict.fromkeys(p.module for p in env.goproxy.probe_set))
        metafunc.parametrize("probe_module", modules, ids=modules)
    if "mixed_case_probe" in metafunc.fixturenames:
        mixed = [p for p in env.goproxy.probe_set if p.module != p.module.lower()]
        none = pytest.param(None, marks=pytest.mark.skip(reason="no module of the probe set has an upper-case letter"))
        metafunc.parametrize("mixed_case_probe", mixed or [none], ids=[_probe_id(p) for p in mixed] or ["none"])


def _probe_id(probe: ModuleVersion) -> str:
    return f"{probe.module}@{probe.version}"


@pytest.fixture(scope="session")
def fetchers() -> Iterator[ThreadPoolExecutor]:
    """The threads that fetch answers ahead of the checks."""
    with ThreadPoolExecutor(max_workers=_FETCHERS, thread_name_prefix="gauntlet-goproxy") as pool:
        yield pool
        pool.shutdown(cancel_futures=True)


@pytest.fixture(scope="session")
def samplers(goproxy_config: Goproxy) -> Iterator[ThreadPoolExecutor]:
    """The threads that send the repeated requests of the stability checks (``goproxy.repetition.concurrency``)."""
    with ThreadPoolExecutor(max_workers=goproxy_config.repetition.concurrency, thread_name_prefix="gauntlet-sample") as pool:
        yield pool


@pytest.fixture(scope="session")
def goproxy_http(environment: Environment) -> Iterator[PerThread]:
    """HTTP/2 clients, one per thread, configured as the session's ``http_client``: trust, timeouts, no redirects,
    each request within its deadline and each answer within its cap (:mod:`gauntlet.transport`)."""
    trust = ssl_context(environment)
    clients = PerThread(lambda: transport.client(environment.limits, verify=trust, http2=True, timeout=HTTP_TIMEOUT,
                                                 follow_redirects=False, headers={"User-Agent": "gauntlet (conformance; goproxy)"}))
    yield clients
    clients.close()


@pytest.fixture(scope="session")
def goproxies(environment: Environment, goproxy_http: PerThread, fetchers: ThreadPoolExecutor) -> dict[str, GoproxyClient]:
    """A protocol client of every endpoint serving the protocol, by endpoint name."""
    return {e.name: GoproxyClient.for_endpoint(e, goproxy_http, fetchers) for e in _endpoints(environment)}


@pytest.fixture(scope="session")
def goproxy(target: Endpoint, goproxies: dict[str, GoproxyClient]) -> GoproxyClient:
    """The protocol client of one endpoint."""
    return goproxies[target.name]


@pytest.fixture(scope="session")
def goproxy_config(environment: Environment) -> Goproxy:
    if environment.goproxy is None:
        pytest.skip(f"environment {environment.name} serves no Go module proxy")
    return environment.goproxy


@pytest.fixture(scope="session")
def checksum_databases(environment: Environment) -> tuple[Database, ...]:
    """The checksum databases the environment says the proxy serves (``goproxy.sumdb``)."""
    return tuple(database(entry) for entry in (environment.goproxy.sumdb if environment.goproxy else ()))


@pytest.fixture(scope="session")
def known_sums(environment: Environment) -> dict[tuple[str, str], str]:
    """Known-good go.sum hashes of the probe set: (module, version or version/go.mod) -> h1."""
    if environment.goproxy is None or environment.goproxy.go_sum is None:
        pytest.skip(f"environment {environment.name} names no known-good go.sum (goproxy.go_sum)")
    return read_go_sum(Path(environment.goproxy.go_sum))


#: Seconds the go command may take besides its requests (start, hashing, extracting).
GO_START_S = 10.0


@pytest.fixture(scope="session")
def go_downloads(environment: Environment, goproxies: dict[str, GoproxyClient],
                 checksum_databases: tuple[Database, ...]) -> Iterator[dict[str, Future[goclient.Download]]]:
    """The real go client's download of the probe set through each endpoint, started now, in the background.
    Each within a deadline from the endpoint's (three requests per module version, each within the endpoint's
    request deadline, plus GO_START_S) and within ``limits.go_client_mb`` of memory."""
    go = goclient.go_binary()
    if go is None or environment.goproxy is None:
        yield {}
        return
    scratch = Path(tempfile.mkdtemp(prefix="gauntlet-go-client-", dir=_fast_scratch()))
    config = environment.goproxy
    modules = [f"{p.module}@{p.version}" for p in config.probe_set]
    ca_files = [e.ca_path for e in environment.endpoints if e.ca_path is not None and e.ca_path.is_file()]
    gosumdb = checksum_databases[0].key if config.go_client_sumdb and checksum_databases else None
    pool = ThreadPoolExecutor(max_workers=max(1, len(goproxies)), thread_name_prefix="gauntlet-go-client")
    started = {}
    for endpoint in _endpoints(environment):
        started[endpoint.name] = pool.submit(
            goclient.download, go, goproxies[endpoint.name].base_url, modules, scratch / endpoint.name,
            deadline_s=GO_START_S + 3 * len(modules) * endpoint.request_deadline_s, memory_bytes=environment.limits.go_client_mb << 20,
            gosumdb=gosumdb, ca_files=ca_files, loopback_only=is_loopback(str(endpoint.url)))
    yield started
    pool.shutdown(wait=True, cancel_futures=True)
    shutil.rmtree(scratch, ignore_errors=True)


def _fast_scratch() -> str | None:
    """A memory file system for the go client's module caches when there is one (thousands of small files)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and shutil.disk_usage(shm).free > 1 << 30 else None


@pytest.fixture
def go_download(target: Endpoint, go_downloads: dict[str, Future[goclient.Download]]) -> goclient.Download:
    """The real go client's download of the probe set through this endpoint."""
    if target.name not in go_downloads:
        pytest.skip("no go binary on PATH: the real client cannot be run here (the Dockerfile's image carries Go)")
    return go_downloads[target.name].result()


@pytest.fixture(scope="session", autouse=True)
def _answers_ahead(request: pytest.FixtureRequest, environment: Environment) -> None:
    """Start the real go client and fetch the answers the selected checks judge, before the first check runs."""
    if environment.goproxy is None:
        return
    fixtures = {name for item in request.session.items for name in getattr(item, "fixturenames", ())}
    if "go_download" in fixtures:
        request.getfixturevalue("go_downloads")
    if fixtures & set(_PROBES):  # the checks of a probe judge the shared answers; the others ask for their own
        databases = request.getfixturevalue("checksum_databases")
        wanted = protocol.session_paths(environment.goproxy.probe_set, [d.name for d in databases])
        for client in request.getfixturevalue("goproxies").values():
            client.prefetch(wanted)


@pytest.fixture
def module(probe: ModuleVersion) -> str:
    return probe.module


@pytest.fixture
def version(probe: ModuleVersion) -> str:
    return probe.version
