"""The GOPROXY tier's fixed loopback addresses (``environments/local.yaml`` hard-codes them)."""

from __future__ import annotations

import errno
import socket

from gauntlet.exceptions import LocalStackError

HOST = "127.0.0.1"

#: listener name -> port; every listener of the tier, and nothing else.
PORTS: dict[str, int] = {
    "edge https": 8443,
    "edge http": 8080,
    "lb": 3100,
    "lb stats": 3199,
    "replica-1": 3001,
    "replica-2": 3002,
}


def address(listener: str) -> str:
    """``127.0.0.1:PORT`` of a listener of :data:`PORTS`."""
    return f"{HOST}:{PORTS[listener]}"


def ensure_free(listener: str) -> None:
    """Raise :class:`LocalStackError` naming the port when something already listens on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, PORTS[listener]))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise LocalStackError(
                    f"port {address(listener)} ({listener}) is already in use by another process"
                ) from exc
            raise LocalStackError(f"cannot bind {address(listener)} ({listener}): {exc}") from exc
