"""Edge helpers shared by the edge suite, experiments and the CLI.

::

    providers   PROVIDERS: each CDN's cache-status vocabulary and documented defaults (one table)
    headers     Cache-Control, Age, Expires, Vary as a shared cache reads them; version banners
    tls         scan(): sslyze against one address with a hostname as SNI -> JSON-serialisable findings
    targets     which hosts, addresses and paths of an environment the checks visit
    client      get(): one GET as a client of the edge's hostname (Host and SNI)
    waf         burst() and recovery(): bounded probes of a rate-limiting edge
"""

from __future__ import annotations

from gauntlet.edge.headers import CacheControl, Freshness, age, freshness, version_banners
from gauntlet.edge.providers import PROVIDERS, Provider, provider
from gauntlet.edge.tls import scan

__all__ = ["PROVIDERS", "CacheControl", "Freshness", "Provider", "age", "freshness", "provider", "scan", "version_banners"]
