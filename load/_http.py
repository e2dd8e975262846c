"""The base of gauntlet's users: FastHttpUser bounded by the guard's request budget.

Target, CA bundle and TLS server name come from the environment's endpoint
(``_guard.params``): the user trusts the endpoint's CA bundle besides the
system store, verifies the certificate, and when the endpoint names a
``server_name`` sends it as SNI and Host (an edge addressed by IP). ``--host``
on the Locust command line still wins over the endpoint's URL.

Each request is bounded as the conformance checks' are: by the endpoint's
``timeout_s`` per connect and read, by its deadline in all (a gevent timeout:
a target that trickles one byte every two seconds is a failure, not a user
stuck for ever), and its body by the cap of its kind (``limits.body_bytes``):
an answer beyond it is a failure saying so, and is not read further.
"""

from __future__ import annotations

import functools
import random
import ssl
import time
import zlib
from collections.abc import Callable

import _guard
import gevent
from locust import FastHttpUser
from locust.exception import StopUser

from gauntlet.environment import body_kind
from gauntlet.load.params import LoadParams

CHUNK = 65536


class TooLarge(Exception):
    """The answer is longer than its cap."""


class DeadlineExceeded(Exception):
    """No complete answer by the request's deadline."""


def read_capped(response, cap: int) -> bytes:
    """The body of a streamed FastHttpUser response, decoded (gzip, deflate), at most ``cap`` bytes; TooLarge beyond."""
    chunks, got = [], 0
    for chunk in response.iter_content(CHUNK, decode_content=False):
        got += len(chunk)
        if got > cap:
            raise TooLarge()
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = (response.headers.get("content-encoding") or "identity").lower()
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return body
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS)
    out = inflate.decompress(body, cap + 1)
    if len(out) > cap:
        raise TooLarge()
    return out


class _Context(ssl.SSLContext):
    """An SSL context that sends a fixed server name (SNI and certificate check) whatever the URL's host."""

    server_name: str | None = None

    def wrap_socket(self, sock, *args, server_hostname=None, **kwargs):  # type: ignore[override]
        return super().wrap_socket(sock, *args, server_hostname=self.server_name or server_hostname, **kwargs)


def tls_context(ca_bundle: str | None, server_name: str | None, **_: object) -> ssl.SSLContext:
    context = _Context(ssl.PROTOCOL_TLS_CLIENT)
    context.load_default_certs()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    context.server_name = server_name
    return context


class BoundedHttpUser(FastHttpUser):
    """A FastHttpUser whose every request is paid from the guard's budget; no budget, no request."""

    abstract = True
    kind: str = ""
    insecure = False
    network_timeout = 10.0
    connection_timeout = 5.0

    def __init__(self, environment) -> None:
        self.params: LoadParams = _guard.params(environment, self.kind)  # type: ignore[arg-type]
        if self.host is None:
            self.host = self.params.host
        self.network_timeout = self.params.timeout_s
        self.connection_timeout = min(self.params.timeout_s, 5.0)
        if self.params.server_name:
            self.default_headers = {**(self.default_headers or {}), "Host": self.params.server_name}
        self.ssl_context_factory = functools.partial(tls_context, self.params.ca_bundle, self.params.server_name)
        super().__init__(environment)

    def wait_time(self) -> float:
        low, high = self.params.wait_s
        return random.uniform(low, high)

    def fetch(self, path: str, name: str, judge: Callable[[int, bytes], str | None]) -> tuple[int, bytes] | None:
        """GET ``path`` (stats under ``name``) within the endpoint's deadline, its body within the cap of its kind;
        ``judge(status, body)`` says what is wrong, or None. The answer's status and body, None without one."""
        if not _guard.take(self.environment):
            raise StopUser()
        kind = body_kind(path)
        cap = self.params.body_bytes[kind]
        started = time.perf_counter()
        deadline = gevent.Timeout(self.params.deadline_s, DeadlineExceeded())
        deadline.start()
        try:
            with self.client.get(path, name=name, catch_response=True, stream=True) as response:
                if not response.status_code:
                    response.failure(f"no answer: {getattr(response, 'error', None) or 'connection failed'}")
                    return None
                try:
                    body = read_capped(response, cap)
                except TooLarge:
                    response.release()  # not read to its end: the connection is closed, not reused
                    response.failure(f"the answer exceeded {cap} bytes, the cap for this kind of request "
                                     f"(limits.body_bytes.{kind}): not read further")
                    return None
                response.request_meta["response_time"] = (time.perf_counter() - started) * 1000
                response.request_meta["response_length"] = len(body)
                problem = judge(response.status_code, body)
                if problem:
                    response.failure(problem)
                else:
                    response.success()
                return response.status_code, body
        except DeadlineExceeded:
            self.environment.events.request.fire(
                request_type="GET", name=name, response_time=(time.perf_counter() - started) * 1000, response_length=0,
                exception=DeadlineExceeded(f"no complete answer within {self.params.deadline_s:g} s, the request's "
                                           "deadline (endpoints[].deadline_s)"),
                context={}, response=None, url=path)
            return None
        finally:
            deadline.close()
