"""Set-up of the GOPROXY tier: Debian packages, module corpus, checksum database, local CA. Idempotent.

Athens itself cannot be installed here: the Go module proxy this workplace
reaches answers ``403 This module version is not available`` for every version
of ``github.com/gomods/athens`` (and of the other GOPROXY servers,
``github.com/goproxy/goproxy`` and ``github.com/goproxyio/goproxy``). The
replicas are therefore nginx serving the file-based GOPROXY that the real go
command built, with Athens' routes and caching headers (see
``fixtures/local/README.md``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from gauntlet.exceptions import LocalStackError
from gauntlet.local import certs, corpus
from gauntlet.paths import ROOT, cache_dir

NGINX = Path("/usr/sbin/nginx")
HAPROXY = Path("/usr/sbin/haproxy")
NJS_MODULE = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")
APT_PACKAGES = ("nginx", "haproxy", "libnginx-mod-http-js")
_POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
SUMDB_SOURCE = ROOT / "fixtures" / "local" / "sumdb"


def packages_installed() -> bool:
    return NGINX.is_file() and HAPROXY.is_file() and NJS_MODULE.is_file()


def _run(argv: list[str], progress: Callable[[str], None]) -> None:
    progress("$ " + " ".join(argv))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise LocalStackError(f"{' '.join(argv)} failed: {proc.stderr.strip()[-500:]}")


def install_packages(progress: Callable[[str], None] = print) -> None:
    """apt-get install nginx, HAProxy and nginx's njs module; never leave their system services running."""
    if not packages_installed():
        apt_install(APT_PACKAGES, ("nginx", "haproxy"), progress)


def apt_install(packages: tuple[str, ...], services: tuple[str, ...], progress: Callable[[str], None] = print) -> None:
    """apt-get install ``packages`` without letting their maintainer scripts start ``services``."""
    if os.geteuid() != 0:
        raise LocalStackError(f"{', '.join(packages)} missing: run as root, or sudo apt-get install -y {' '.join(packages)}")
    own_policy = not _POLICY_RC_D.exists()
    if own_policy:  # tells the packages' maintainer scripts not to start their services
        _POLICY_RC_D.write_text("#!/bin/sh\nexit 101\n")
        _POLICY_RC_D.chmod(0o755)
    try:
        _run(["apt-get", "update", "-q"], progress)
        _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages], progress)
    finally:
        if own_policy:
            _POLICY_RC_D.unlink()
    if shutil.which("systemctl") and Path("/run/systemd/system").is_dir():
        _run(["systemctl", "disable", "--now", *services], progress)


def sumdb_binary() -> Path:
    return cache_dir() / "bin" / "gauntlet-sumdb"


def build_sumdb(progress: Callable[[str], None] = print) -> Path:
    """Build the checksum database server (fixtures/local/sumdb) unless current, offline: its one dependency,
    golang.org/x/mod, comes from the module corpus, checked against the go.sum beside the source."""
    target = sumdb_binary()
    stamp = target.with_name(target.name + ".stamp")
    source = hashlib.sha256(b"".join((SUMDB_SOURCE / f).read_bytes() for f in ("go.mod", "go.sum", "main.go"))).hexdigest()
    if target.is_file() and stamp.is_file() and stamp.read_text() == source:
        return target
    go = shutil.which("go")
    if go is None:
        raise LocalStackError("the go command is not on PATH: it is needed to build the checksum database server")
    progress(f"building the checksum database server into {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gauntlet-sumdb-build-") as tmp:
        env = dict(os.environ, GOPROXY=corpus.corpus_dir().as_uri(), GOSUMDB="off", GOFLAGS="-mod=readonly -modcacherw",
                   GOTOOLCHAIN="local", GOWORK="off", GOMODCACHE=str(Path(tmp) / "modcache"), CGO_ENABLED="0")
        proc = subprocess.run([go, "build", "-o", str(target), "."], cwd=SUMDB_SOURCE, env=env, capture_output=True,
                              text=True, timeout=600)
    if proc.returncode != 0:
        raise LocalStackError(f"go build of {SUMDB_SOURCE} failed: {proc.stderr.strip()[-500:]}")
    stamp.write_text(source)
    return target


def install(progress: Callable[[str], None] = print) -> None:
    """Everything the tier needs, cached: packages, module corpus, checksum database server, CA and edge certificates."""
    install_packages(progress)
    corpus.build(progress)
    build_sumdb(progress)
    certs.ensure()
