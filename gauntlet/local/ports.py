"""The GOPROXY tier's fixed loopback addresses (``environments/local.yaml`` hard-codes them)."""

from __future__ import annotations

HOST = "127.0.0.1"

#: listener name -> port; every listener of the tier, and nothing else.
PORTS: dict[str, int] = {
    "edge https": 8443,
    "edge http": 8080,
    "lb": 3100,
    "lb athens pods": 3101,
    "lb stats": 3199,
    "replica-1": 3001,
    "replica-2": 3002,
    "sumdb": 3030,
    "storage": 3040,
}


def address(listener: str) -> str:
    """``127.0.0.1:PORT`` of a listener of :data:`PORTS`."""
    return f"{HOST}:{PORTS[listener]}"
