"""A client for the module proxy protocol against one base URL.

It only fetches: every answer comes back as a :class:`Fetched`, whatever its
status, so checks decide what is wrong. No answer at all raises
:class:`~gauntlet.exceptions.TargetUnreachable` naming the URL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from gauntlet.exceptions import TargetUnreachable
from gauntlet.goproxy.module import escape


@dataclass(frozen=True)
class Fetched:
    """One HTTP answer, kept whole for checks and messages."""

    method: str
    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed_ms: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def describe(self, limit: int = 120) -> str:
        """``GET <url>: 503 text/html (body: "<html>...")`` for assertion messages."""
        snippet = " ".join(self.text[:limit].split())
        more = "…" if len(self.body) > limit else ""
        kind = self.headers.get("content-type", "no content-type")
        return f'{self.method} {self.url}: {self.status} {kind}, {len(self.body)} bytes (body: "{snippet}{more}")'


def request(http: httpx.Client, method: str, url: str, **kwargs) -> Fetched:
    """One request; transport failures become TargetUnreachable naming the URL."""
    started = time.perf_counter()
    try:
        response = http.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise TargetUnreachable(f"{method} {url}: no answer in time ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise TargetUnreachable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    elapsed = (time.perf_counter() - started) * 1000
    return Fetched(method, url, response.status_code, response.headers, response.content, elapsed)


class GoproxyClient:
    """GET requests of the GOPROXY protocol; paths and versions are case-encoded here."""

    def __init__(self, base_url: str, http: httpx.Client, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))

    def get(self, path: str) -> Fetched:
        return request(self.http, "GET", f"{self.base_url}/{path.lstrip('/')}", timeout=self.timeout)

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
