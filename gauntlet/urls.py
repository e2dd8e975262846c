"""What a URL names: whether its host is loopback (the local stack's network rule, ``GAUNTLET_KUBE_LOOPBACK_ONLY``,
``GAUNTLET_AWS_LOOPBACK_ONLY``), and its origin, so that two URLs of one server compare alike."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

#: The port a URL of this scheme means when it writes none.
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback_host(host: str | None) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback(url: str | None) -> bool:
    """Whether the URL's host is loopback (:func:`is_loopback_host`)."""
    return is_loopback_host(urlsplit(url).hostname) if url else False


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, lower-cased, the port the scheme's default when it writes none (RFC 6454):
    ``http://x`` and ``http://X:80/path`` have one origin."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme)


def same_origin(a: str | None, b: str | None) -> bool:
    """Two URLs of one origin (:func:`origin`: path, query and credentials ignored); never when either is empty."""
    return bool(a and b) and origin(str(a)) == origin(str(b))
