"""The base of gauntlet's users: FastHttpUser bounded by the guard's request budget.

Target, CA bundle and TLS server name come from the environment's endpoint
(``_guard.params``): the user trusts the endpoint's CA bundle besides the
system store, verifies the certificate, and when the endpoint names a
``server_name`` sends it as SNI and Host (an edge addressed by IP). ``--host``
on the Locust command line still wins over the endpoint's URL.
"""

from __future__ import annotations

import functools
import random
import ssl
from typing import Callable, Optional

from locust import FastHttpUser
from locust.exception import StopUser

import _guard
from gauntlet.load.params import LoadParams


class _Context(ssl.SSLContext):
    """An SSL context that sends a fixed server name (SNI and certificate check) whatever the URL's host."""

    server_name: Optional[str] = None

    def wrap_socket(self, sock, *args, server_hostname=None, **kwargs):  # type: ignore[override]
        return super().wrap_socket(sock, *args, server_hostname=self.server_name or server_hostname, **kwargs)


def tls_context(ca_bundle: Optional[str], server_name: Optional[str], **_: object) -> ssl.SSLContext:
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
        if self.params.server_name:
            self.default_headers = {**(self.default_headers or {}), "Host": self.params.server_name}
        self.ssl_context_factory = functools.partial(tls_context, self.params.ca_bundle, self.params.server_name)
        super().__init__(environment)

    def wait_time(self) -> float:
        low, high = self.params.wait_s
        return random.uniform(low, high)

    def fetch(self, path: str, name: str, judge: Callable[[int, bytes], Optional[str]]):
        """GET ``path`` (stats under ``name``); ``judge(status, body)`` says what is wrong, or None."""
        if not _guard.take(self.environment):
            raise StopUser()
        with self.client.get(path, name=name, catch_response=True) as response:
            if not response.status_code:
                response.failure(f"no answer: {getattr(response, 'error', None) or 'connection failed'}")
                return response
            problem = judge(response.status_code, response.content or b"")
            if problem:
                response.failure(problem)
            else:
                response.success()
            return response
