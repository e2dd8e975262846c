"""The embedded local stack's GOPROXY tier, on loopback only.

Public surface used by the CLI (``gauntlet local up|down|status``)::

    install(progress)        set-up, idempotent: Debian packages, module corpus, local CA
    up(faults, progress)     start what is not running with these fault profiles; wait healthy
    down()                   stop what up() started (pid files), nothing else
    status()                 components, health, pids, edge URL, CA bundle, faults
    FAULTS                   fault profile name -> Fault(name, tier, description, breaks)
"""

from __future__ import annotations

from gauntlet.local.faults import FAULTS, Fault
from gauntlet.local.goproxy_tier import down, status, up
from gauntlet.local.install import install

__all__ = ["FAULTS", "Fault", "down", "install", "status", "up"]
