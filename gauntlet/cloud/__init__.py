"""Read-only cloud probes by service, shared by the cloud conformance suite and chaos experiments.

Each probe takes its domain arguments, then ``configuration=None, secrets=None`` (Chaos
Toolkit's activity signature), and returns JSON-serialisable data or raises one of
:mod:`gauntlet.cloud.errors`. Clients come from :func:`gauntlet.cloud.session.client` only.
"""

from __future__ import annotations

from gauntlet.cloud.errors import CloudCallFailed, CloudConfigError, ReadOnlyViolation
from gauntlet.cloud.session import READ_ONLY_PREFIXES, client, configuration_for, emulator

__all__ = [
    "READ_ONLY_PREFIXES",
    "CloudCallFailed",
    "CloudConfigError",
    "ReadOnlyViolation",
    "client",
    "configuration_for",
    "emulator",
]
