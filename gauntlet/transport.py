"""The HTTP transport of the checks: a total deadline per request and a cap on every answer.

httpx's timeouts bound each connect and each read, so a target that sends one byte every
two seconds never trips them. :class:`BoundedTransport` bounds a request as a whole: each
connect, TLS handshake, read and write of a request with the ``deadline_s`` extension waits
at most until that deadline, which then raises ``httpx.ReadTimeout`` (or ``ConnectTimeout``)
saying :data:`DEADLINE`. The answer's body is read up to the cap of its kind
(:meth:`gauntlet.environment.Limits.body_cap`, the kind from the request's path), beyond which
:class:`AnswerTooLarge` is raised and the connection dropped; the cap is also in the response's
``gauntlet.body_cap`` extension, for the reader of the decoded body (:func:`gauntlet.answers.request`).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from gauntlet.environment import BodyKind, Limits, body_kind
from gauntlet.exceptions import TargetError

DEADLINE = "deadline reached"
CAP_EXTENSION = "gauntlet.body_cap"
_deadline: ContextVar[float | None] = ContextVar("gauntlet_deadline", default=None)


class AnswerTooLarge(TargetError):
    """The answer was longer than its kind's cap: it was not read further."""

    def __init__(self, what: str, kind: BodyKind, cap: int) -> None:
        super().__init__(f"{what}: the answer exceeded {cap} bytes, the cap for this kind of request "
                         f"(limits.body_bytes.{kind}): not read further")


@contextmanager
def _until(at: float | None) -> Iterator[None]:
    token = _deadline.set(at)
    try:
        yield
    finally:
        _deadline.reset(token)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout``, shortened to what is left before the deadline; ``error`` when none is left."""
    at = _deadline.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error(DEADLINE)
    return left if timeout is None else min(timeout, left)


def _past_deadline() -> bool:
    at = _deadline.get()
    return at is not None and time.monotonic() >= at


class _Stream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the deadline of the request at hand."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return self.inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))
        except httpcore.ReadTimeout:
            if _past_deadline():
                raise httpcore.ReadTimeout(DEADLINE) from None
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        try:
            return _Stream(self.inner.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)))
        except httpcore.ConnectTimeout:
            if _past_deadline():
                raise httpcore.ConnectTimeout(DEADLINE) from None
            raise

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """httpcore's own backend, its streams bounded by the deadline."""

    def __init__(self) -> None:
        self.inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _Stream(self.inner.connect_tcp(host, port, _bounded(timeout, httpcore.ConnectTimeout), local_address,
                                              socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        return _Stream(self.inner.connect_unix_socket(path, _bounded(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _CappedBody(httpx.SyncByteStream):
    """The body as it comes off the wire: each chunk by the deadline, at most ``cap`` bytes in all."""

    def __init__(self, inner: httpx.SyncByteStream, at: float | None, what: str, kind: BodyKind, cap: int) -> None:
        self.inner, self.at, self.what, self.kind, self.cap = inner, at, what, kind, cap

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self.inner)
        got = 0
        while True:
            with _until(self.at):
                chunk = next(chunks, None)
            if chunk is None:
                return
            got += len(chunk)
            if got > self.cap:
                raise AnswerTooLarge(self.what, self.kind, self.cap)
            yield chunk

    def close(self) -> None:
        self.inner.close()


class BoundedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` with the deadline of the ``deadline_s`` request extension and the body caps of ``limits``."""

    def __init__(self, limits: Limits, *, verify: ssl.SSLContext | bool = True, http2: bool = False) -> None:
        super().__init__(verify=verify, http2=http2)
        # httpx offers no network backend of its own choosing: the pool is built again, with ours.
        self._pool = httpcore.ConnectionPool(ssl_context=verify if isinstance(verify, ssl.SSLContext)
                                             else httpx.create_ssl_context(verify=verify),
                                             http1=True, http2=http2, network_backend=_Backend())
        self.limits = limits

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        seconds = request.extensions.get("deadline_s")
        at = time.monotonic() + float(seconds) if seconds else None
        with _until(at):
            response = super().handle_request(request)
        kind = body_kind(request.url.path)
        cap = self.limits.body_cap(kind)
        response.stream = _CappedBody(response.stream, at, f"{request.method} {request.url}", kind, cap)  # type: ignore[arg-type]
        response.extensions[CAP_EXTENSION] = (kind, cap)
        return response


def client(limits: Limits, *, verify: ssl.SSLContext | bool = True, http2: bool = True, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` on a :class:`BoundedTransport` (``kwargs``: the client's own options)."""
    return httpx.Client(transport=BoundedTransport(limits, verify=verify, http2=http2), **kwargs)
