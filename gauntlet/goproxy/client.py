"""A client for the module proxy protocol against one endpoint, answering as the go command reads.

It only fetches: every answer comes back as a :class:`~gauntlet.answers.Fetched`,
whatever its status, so checks decide what is wrong. No answer at all, no complete
answer by the request's deadline, or an answer longer than its kind's cap raises a
:class:`~gauntlet.exceptions.TargetError` naming the URL.

Redirects are followed as cmd/go/internal/web follows them (net/http's client
with ``checkRedirect``): 301, 302, 303, 307 and 308 with a ``Location``, at most
10 requests in all, never from an https URL to a plain-http one; a 3xx without
``Location`` is the answer itself. The hops are kept in the answer, so every
message names the redirect. The endpoint's ``server_name`` is sent as TLS SNI
and Host on its own origin. Each URL is fetched once per client
(:meth:`GoproxyClient.get`): the checks that judge one answer share it.
Requests may come from several threads: each thread has its own HTTP client
(:class:`PerThread`), as httpx's HTTP/2 connections cannot be shared between
threads (concurrent streams corrupt the HPACK state: COMPRESSION_ERROR).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

import httpx

from gauntlet.answers import Fetched, request
from gauntlet.environment import Endpoint
from gauntlet.exceptions import TargetError
from gauntlet.goproxy.module import escape
from gauntlet.urls import same_origin

#: The statuses net/http's client follows (``redirectBehavior``).
REDIRECTS = (301, 302, 303, 307, 308)
#: cmd/go/internal/web ``checkRedirect`` refuses a redirect once 10 requests were made
#: ("stopped after 10 redirects"): 9 hops are followed, the 10th is not.
MAX_REQUESTS = 10


class PerThread:
    """An HTTP client for each thread that asks, made by ``factory`` on first use; all closed by :meth:`close`."""

    def __init__(self, factory: Callable[[], httpx.Client]) -> None:
        self._factory = factory
        self._local = threading.local()
        self._made: list[httpx.Client] = []
        self._lock = threading.Lock()

    def __call__(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._factory()
            with self._lock:
                self._made.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            made, self._made = self._made, []
        for client in made:
            client.close()


class GoproxyClient:
    """GET requests of the GOPROXY protocol against one base URL; paths and versions are case-encoded here."""

    def __init__(self, base_url: str, http: Callable[[], httpx.Client], timeout_s: float = 10.0,
                 server_name: str | None = None, pool: Executor | None = None,
                 deadline_s: float | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self.deadline_s = deadline_s
        self.server_name = server_name
        self.pool = pool
        self._answers: dict[str, Future[Fetched]] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_endpoint(cls, endpoint: Endpoint, http: Callable[[], httpx.Client], pool: Executor | None = None) -> GoproxyClient:
        return cls(str(endpoint.url), http, endpoint.timeout_s, endpoint.server_name, pool, endpoint.request_deadline_s)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _one(self, url: str) -> Fetched:
        headers, extensions = {}, {}
        if self.server_name and same_origin(url, self.base_url):
            headers["Host"] = self.server_name
            extensions["sni_hostname"] = self.server_name
        return request(self.http(), "GET", url, headers=headers, extensions=extensions, timeout=self.timeout,
                       deadline_s=self.deadline_s)

    def fetch(self, path: str) -> Fetched:
        """GET ``path`` now, redirects followed as the go command follows them; never from the cache."""
        first = url = self.url(path)
        hops: list[str] = []
        elapsed = 0.0
        while True:
            answer = self._one(url)
            elapsed += answer.elapsed_ms
            location = answer.headers.get("location")
            if answer.status not in REDIRECTS or not location:
                return replace(answer, url=first, redirects=tuple(hops), elapsed_ms=elapsed)
            target = urljoin(url, location)
            refused = ""
            if len(hops) + 1 >= MAX_REQUESTS:
                refused = f"stopped after {MAX_REQUESTS} redirects"
            elif urlsplit(first).scheme == "https" and urlsplit(target).scheme != "https":
                refused = f"redirected from secure URL {url} to insecure URL {target}"
            if refused:
                return replace(answer, url=first, redirects=tuple(hops), elapsed_ms=elapsed, refused=refused)
            hops.append(f"{answer.status} {target}")
            url = target

    def get(self, path: str) -> Fetched:
        """The answer for ``path``: fetched on first use, then the same answer for every check that asks."""
        with self._lock:
            future = self._answers.get(path)
            owner = future is None
            if future is None:
                future = self._answers[path] = Future()
        if owner:
            try:
                future.set_result(self.fetch(path))
            except BaseException as exc:  # whatever it is, every check that waits for this answer gets it
                future.set_exception(exc)
        failure = future.exception()
        if failure is not None:  # its traceback from here: re-raised as it is, it would grow with every check
            raise failure.with_traceback(None)
        return future.result()

    def get_many(self, paths: Iterable[str]) -> list[Fetched]:
        """The answers for ``paths``, those not fetched yet fetched concurrently on the pool."""
        paths = list(paths)
        self.prefetch(paths)
        return [self.get(path) for path in paths]

    def prefetch(self, paths: Sequence[str]) -> None:
        """Start fetching ``paths`` on the pool (without one: nothing, they are fetched on first use)."""
        if self.pool is not None:
            for path in paths:
                if path not in self._answers:
                    self.pool.submit(self._quietly, path)

    def _quietly(self, path: str) -> None:
        try:
            self.get(path)
        except TargetError:
            pass  # kept in the cache: the check that asks for it reports it

    def list(self, module: str) -> Fetched:
        return self.get(f"{escape(module)}/@v/list")

    def info(self, module: str, version: str) -> Fetched:
        return self.get(f"{escape(module)}/@v/{escape(version)}.info")

    def mod(self, module: str, version: str) -> Fetched:
        return self.get(f"{escape(module)}/@v/{escape(version)}.mod")

    def zip(self, module: str, version: str) -> Fetched:
        return self.get(f"{escape(module)}/@v/{escape(version)}.zip")

    def latest(self, module: str) -> Fetched:
        return self.get(f"{escape(module)}/@latest")
