"""A client for the module proxy protocol against one base URL.

It only fetches: every answer comes back as a :class:`Fetched`, whatever its
status, so checks decide what is wrong. No answer at all, no complete answer by
the request's deadline, or an answer longer than its kind's cap raises a
:class:`~gauntlet.exceptions.TargetError` naming the URL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Optional

import httpx

from gauntlet.environment import BODY_BYTES, body_kind
from gauntlet.exceptions import TargetUnreachable
from gauntlet.goproxy.module import escape
from gauntlet.transport import CAP_EXTENSION, DEADLINE, AnswerTooLarge

#: A request's deadline when the caller gives none: this many times its read timeout.
DEADLINE_PER_TIMEOUT = 3


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


def _default_deadline(timeout: Any) -> float:
    read = timeout.read if isinstance(timeout, httpx.Timeout) else timeout
    return DEADLINE_PER_TIMEOUT * float(read) if read else 30.0


def request(http: httpx.Client, method: str, url: str, *, deadline_s: Optional[float] = None, **kwargs: Any) -> Fetched:
    """One request, bounded: ``deadline_s`` in all (default: three times its read timeout), its body by the cap of
    its kind (:class:`~gauntlet.transport.BoundedTransport`'s, else the default caps). Failures name the URL."""
    seconds = deadline_s or _default_deadline(kwargs.get("timeout"))
    kwargs["extensions"] = {**kwargs.get("extensions", {}), "deadline_s": seconds}
    started = time.perf_counter()
    body = bytearray()
    try:
        with http.stream(method, url, **kwargs) as response:
            default = body_kind(httpx.URL(url).path)
            kind, cap = response.extensions.get(CAP_EXTENSION) or (default, BODY_BYTES[default])
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > cap:
                    raise AnswerTooLarge(f"{method} {url}", kind, cap)
                if time.perf_counter() - started > seconds:
                    raise httpx.ReadTimeout(DEADLINE)
    except httpx.TimeoutException as exc:
        if DEADLINE in str(exc):
            got = f" ({len(body)} bytes of the body had come)" if body else ""
            raise TargetUnreachable(f"{method} {url}: no complete answer within {seconds:g} s, the request's deadline "
                                    f"(endpoints[].deadline_s){got}") from exc
        raise TargetUnreachable(f"{method} {url}: no answer in time ({type(exc).__name__})") from exc
    except httpx.RequestError as exc:
        raise TargetUnreachable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    elapsed = (time.perf_counter() - started) * 1000
    return Fetched(method, url, response.status_code, response.headers, bytes(body), elapsed)


class GoproxyClient:
    """GET requests of the GOPROXY protocol; paths and versions are case-encoded here."""

    def __init__(self, base_url: str, http: httpx.Client, timeout_s: float = 10.0, deadline_s: Optional[float] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self.deadline_s = deadline_s

    def get(self, path: str) -> Fetched:
        return request(self.http, "GET", f"{self.base_url}/{path.lstrip('/')}", timeout=self.timeout, deadline_s=self.deadline_s)

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
