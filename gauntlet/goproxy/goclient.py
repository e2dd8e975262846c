"""The real client: ``go mod download -json`` of module versions through one proxy, nothing else configured.

The go command runs with ``GOPROXY`` set to the one endpoint (no fallback), a
module cache and ``GOPATH`` of its own (so nothing is reused and the checksum
database state starts empty), ``GOSUMDB`` as given or ``off``, and only the
given CA bundles added to the system's (``SSL_CERT_FILE``; Go keeps reading the
system's certificate directories). With ``loopback_only`` every connection to a
host that is not loopback goes to a closed loopback port instead
(``HTTPS_PROXY``; Go never proxies loopback addresses), so a fallback to a
public host fails rather than leaving the machine. It runs as a child of this
process (:func:`gauntlet.children.run`): within a deadline, within a memory
limit, and it dies with its parent.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gauntlet import children

#: Settings of the caller's environment that would change where the go command looks.
_CLEARED = ("GOFLAGS", "GONOSUMDB", "GONOSUMCHECK", "GOPRIVATE", "GONOPROXY", "GOINSECURE", "GOAUTH", "GOSUMDB",
            "GOPROXY", "HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "NO_PROXY", "no_proxy", "GOENV")
_CLOSED_LOOPBACK_PORT = "http://127.0.0.1:9"


def json_records(stream: str) -> Iterator[dict[str, Any]]:
    """The records of the go command's ``-json`` output: JSON objects one after another."""
    decoder, pos = json.JSONDecoder(), 0
    while True:
        while pos < len(stream) and stream[pos].isspace():
            pos += 1
        if pos == len(stream):
            return
        record, pos = decoder.raw_decode(stream, pos)
        yield record


def go_binary() -> str | None:
    return shutil.which("go")


@dataclass(frozen=True)
class Download:
    """What ``go mod download -json`` did: through which proxy, its settings (for messages), exit status (None
    when its deadline expired), records and stderr; the end of its output when that held no readable records."""

    proxy: str
    settings: str
    returncode: int | None
    records: tuple[dict[str, Any], ...]
    stderr: str
    elapsed_s: float
    deadline_s: float
    unread: str = ""

    @property
    def expired(self) -> bool:
        return self.returncode is None

    def errors(self) -> list[str]:
        """``module@version: error`` of every record the go command could not download."""
        return [f"{r.get('Path')}@{r.get('Version')}: {r['Error']}" for r in self.records if r.get("Error")]


def download(go: str, proxy: str, modules: Sequence[str], workdir: Path, *, deadline_s: float,
             memory_bytes: int | None = None, gosumdb: str | None = None, ca_files: Sequence[Path] = (),
             loopback_only: bool = False) -> Download:
    """``go mod download -json MODULES`` through ``proxy`` alone, in ``workdir`` (which it fills)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    settings = {"GOPROXY": proxy, "GOSUMDB": gosumdb or "off"}
    env.update(settings, GOFLAGS="-modcacherw", GOTOOLCHAIN="local", GO111MODULE="on", GOWORK="off",
               GOMODCACHE=str(workdir / "modcache"), GOPATH=str(workdir / "gopath"))
    if ca_files:
        bundle = workdir / "ca.pem"
        bundle.write_bytes(b"".join(Path(f).read_bytes() for f in ca_files))
        env["SSL_CERT_FILE"] = str(bundle)
    if loopback_only:
        env.update(HTTPS_PROXY=_CLOSED_LOOPBACK_PORT, HTTP_PROXY=_CLOSED_LOOPBACK_PORT)
    done = children.run([go, "mod", "download", "-json", *modules], deadline_s, cwd=workdir, env=env,
                        memory_bytes=memory_bytes)
    try:
        records, unread = tuple(json_records(done.stdout)), ""
    except ValueError:
        records, unread = (), done.stdout.strip()[-300:] or "no output"
    return Download(proxy, _settings(settings), None if done.expired else done.returncode, records, done.stderr,
                    done.wall_s, deadline_s, unread)


def _settings(settings: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in settings.items())
