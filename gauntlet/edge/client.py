"""Requests to an edge as a client of its hostname: Host and SNI set to the endpoint's ``server_name``."""

from __future__ import annotations

from typing import Callable, Mapping, Optional

import httpx

from gauntlet.environment import Endpoint
from gauntlet.goproxy.client import Fetched, request


def get(http: httpx.Client, endpoint: Endpoint, url: str, headers: Optional[Mapping[str, str]] = None) -> Fetched:
    """One GET within the endpoint's deadline, its body capped; no (complete) answer raises
    :class:`~gauntlet.exceptions.TargetUnreachable` naming the URL."""
    sent = dict(headers or {})
    extensions = {}
    if endpoint.server_name:
        sent.setdefault("Host", endpoint.server_name)
        extensions["sni_hostname"] = endpoint.server_name
    timeout = httpx.Timeout(endpoint.timeout_s, connect=min(endpoint.timeout_s, 5.0))
    return request(http, "GET", url, headers=sent, extensions=extensions, timeout=timeout, deadline_s=endpoint.request_deadline_s)


def until_served(fetch: Callable[[], Fetched], attempts: int = 3) -> tuple[Optional[Fetched], Fetched]:
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
