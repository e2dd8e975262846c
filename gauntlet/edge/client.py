"""Requests to an edge as a client of its hostname: Host and SNI set to the endpoint's ``server_name``."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Mapping

import httpx

from gauntlet.answers import Fetched, request
from gauntlet.environment import Endpoint
from gauntlet.exceptions import TargetUnreachable

#: The go command's crypto/tls default suites (Go 1.22 and later) in OpenSSL's words: ECDHE with AES-GCM,
#: ChaCha20-Poly1305 or AES-CBC-SHA, and TLS 1.3's.
GO_CLIENT_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES+SHA1"


def unverified_tls() -> ssl.SSLContext:
    """A client context for the edge's HTTP behaviour: no certificate verified, the go command's cipher suites
    offered. Certificates and cipher suites are judged once, by the TLS checks, not again by every HTTP check."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers(GO_CLIENT_CIPHERS)
    return context


def get(http: httpx.Client, endpoint: Endpoint, url: str, headers: Mapping[str, str] | None = None) -> Fetched:
    """One GET within the endpoint's deadline, its body capped; no (complete) answer raises
    :class:`~gauntlet.exceptions.TargetUnreachable` naming the URL."""
    sent = dict(headers or {})
    extensions = {}
    if endpoint.server_name:
        sent.setdefault("Host", endpoint.server_name)
        extensions["sni_hostname"] = endpoint.server_name
    timeout = httpx.Timeout(endpoint.timeout_s, connect=min(endpoint.timeout_s, 5.0))
    return request(http, "GET", url, headers=sent, extensions=extensions, timeout=timeout, deadline_s=endpoint.request_deadline_s)


def negotiated_protocol(endpoint: Endpoint, offered: tuple[str, ...] = ("h2", "http/1.1")) -> str | None:
    """The application protocol the edge selects in a TLS handshake offering ``offered`` (ALPN, RFC 7301), None
    when it selects none; no handshake raises :class:`~gauntlet.exceptions.TargetUnreachable` naming the address."""
    host, port = str(endpoint.url.host), endpoint.url.port or 443
    name = endpoint.server_name or host
    context = unverified_tls()
    context.set_alpn_protocols(list(offered))
    try:
        with socket.create_connection((host, port), timeout=endpoint.timeout_s) as raw, \
                context.wrap_socket(raw, server_hostname=name) as conn:
            return conn.selected_alpn_protocol()
    except OSError as exc:
        raise TargetUnreachable(f"TLS {host}:{port} (SNI {name}): {type(exc).__name__}: {exc}") from exc


def until_served(fetch: Callable[[], Fetched], attempts: int = 3) -> tuple[Fetched | None, Fetched]:
    """Request until a 2xx answer, at most ``attempts`` times: (the first 2xx or None, the last answer)."""
    answer = fetch()
    for _ in range(attempts - 1):
        if 200 <= answer.status < 300:
            break
        answer = fetch()
    return (answer if 200 <= answer.status < 300 else None), answer


def with_query(url: str, name: str, value: str) -> str:
    """The URL with one more query parameter (cache-busting where the edge keys on the query)."""
    return f"{url}{'&' if '?' in url else '?'}{name}={value}"
