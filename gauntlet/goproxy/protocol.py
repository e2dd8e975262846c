"""The request paths of the GOPROXY protocol (Go Modules Reference, "GOPROXY protocol") the suite asks for.

Relative to an endpoint's base URL, case-encoded. A module and versions that
exist nowhere probe the not-found answers; malformed paths probe the 4xx ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from gauntlet.goproxy.module import escape

UNKNOWN_MODULE = "example.com/gauntlet/no-such-module-7f3c"
#: Not a database anyone runs: ``/sumdb/<it>/supported`` must be 404 or 410.
UNKNOWN_SUMDB = "sum.gauntlet.invalid"
#: The paths of an unknown module, by endpoint kind.
NOT_FOUND = {
    "list": f"{UNKNOWN_MODULE}/@v/list",
    "info": f"{UNKNOWN_MODULE}/@v/v1.0.0.info",
    "mod": f"{UNKNOWN_MODULE}/@v/v1.0.0.mod",
    "zip": f"{UNKNOWN_MODULE}/@v/v1.0.0.zip",
    "latest": f"{UNKNOWN_MODULE}/@latest",
}
MALFORMED = {
    "bad-escape": "github.com/!!double/@v/list",
    "bad-version": "github.com/x/@v/not-a-version.info",
    "bad-suffix": "github.com/x/@v/v1.0.0.exe",
}
ARTEFACTS = ("info", "mod", "zip")
_MAJOR = re.compile(r"[/.]v([2-9]|[1-9][0-9]+)$")


class Probe(Protocol):
    module: str
    version: str


def list_path(module: str) -> str:
    return f"{escape(module)}/@v/list"


def latest_path(module: str) -> str:
    return f"{escape(module)}/@latest"


def artefact_path(module: str, version: str, kind: str) -> str:
    """``$module/@v/$version.<kind>`` for ``info``, ``mod`` or ``zip``."""
    return f"{escape(module)}/@v/{escape(version)}.{kind}"


def unknown_version_path(module: str, n: int = 0) -> str:
    """The ``.info`` of the ``n``-th of the versions of ``module`` that do not exist: valid for its path
    (``vN.999.999+n`` for a ``/vN`` or ``.vN`` suffix, else ``v1.999.999+n``), so the go command could ask for it."""
    suffix = _MAJOR.search(module)
    return artefact_path(module, f"v{suffix[1] if suffix else 1}.999.{999 + n}", "info")


def sumdb_path(name: str, rest: str) -> str:
    """``sumdb/<name>/<rest>``: what a proxy that proxies checksum database ``name`` passes on."""
    return f"sumdb/{name}/{rest}"


def lookup_path(name: str, module: str, version: str) -> str:
    return sumdb_path(name, f"lookup/{escape(module)}@{escape(version)}")


def session_paths(probes: Sequence[Probe], databases: Iterable[str]) -> list[str]:
    """Every path the suite's checks judge that is known before any answer: fetched once, ahead of them."""
    paths: list[str] = []
    for probe in probes:
        paths += [list_path(probe.module), latest_path(probe.module), unknown_version_path(probe.module)]
        paths += [artefact_path(probe.module, probe.version, kind) for kind in ARTEFACTS]
    names = list(databases)
    paths += [*NOT_FOUND.values(), *MALFORMED.values(), sumdb_path(UNKNOWN_SUMDB, "supported")]
    for name in names:
        paths += [sumdb_path(name, "supported"), sumdb_path(name, "latest")]
        paths += [lookup_path(name, p.module, p.version) for p in probes]
    return list(dict.fromkeys(paths))
