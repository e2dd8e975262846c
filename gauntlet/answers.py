"""One HTTP request, bounded, and its answer kept whole: what every HTTP check reads (GOPROXY, edge, WAF).

:func:`request` sends one request within a total deadline and reads its body up to the cap of its
kind (:mod:`gauntlet.transport`); whatever the status, the answer comes back as a :class:`Fetched`,
so checks decide what is wrong. No answer at all, no complete answer by the deadline, or an answer
longer than its cap raises a :class:`~gauntlet.exceptions.TargetError` naming the URL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from gauntlet.environment import BODY_BYTES, body_kind
from gauntlet.exceptions import TargetUnreachable
from gauntlet.transport import CAP_EXTENSION, DEADLINE, AnswerTooLarge

#: A request's deadline when the caller gives none: this many times its read timeout.
DEADLINE_PER_TIMEOUT = 3


@dataclass(frozen=True)
class Fetched:
    """One HTTP answer, kept whole for checks and messages; ``redirects`` are the hops followed to it."""

    method: str
    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed_ms: float
    redirects: tuple[str, ...] = ()  # "302 https://storage/…": each status and the Location followed
    refused: str = ""  # why the go command would not follow this answer's Location

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def where(self) -> str:
        """``GET <url> (302 → <location>)``: the request and the redirects followed, for assertion messages."""
        hops = [hop.replace(" ", " → ", 1) for hop in self.redirects]
        if self.refused:
            hops.append(f"{self.status} → {self.headers.get('location')}, not followed: {self.refused}")
        return f"{self.method} {self.url}" + (f" ({'; '.join(hops)})" if hops else "")

    def describe(self, limit: int = 120) -> str:
        """``GET <url> (302 → <location>): 503 text/html, 52 bytes (body: "<html>...")`` for assertion messages."""
        kind = self.headers.get("content-type", "no content-type")
        head = self.body[:limit].decode("utf-8", errors="ignore")
        if not all(c.isprintable() or c.isspace() for c in head):
            return f"{self.where()}: {self.status} {kind}, {len(self.body)} bytes (binary body)"
        snippet = " ".join(head.split())
        more = "…" if len(self.body) > limit else ""
        return f'{self.where()}: {self.status} {kind}, {len(self.body)} bytes (body: "{snippet}{more}")'


def _default_deadline(timeout: Any) -> float:
    read = timeout.read if isinstance(timeout, httpx.Timeout) else timeout
    return DEADLINE_PER_TIMEOUT * float(read) if read else 30.0


def request(http: httpx.Client, method: str, url: str, *, deadline_s: float | None = None, **kwargs: Any) -> Fetched:
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
