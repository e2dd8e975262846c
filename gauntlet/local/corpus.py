"""The module corpus: a file-based GOPROXY made once with the real ``go`` command.

``go mod download`` fills a module cache whose ``cache/download`` folder is laid
out exactly as the GOPROXY protocol's paths (``github.com/!burnt!sushi/toml/@v/
v1.4.0.zip``). The corpus is that folder, tidied the way a proxy serves it:
``@v/list`` holds releases and pre-releases only (never pseudo-versions, as
go.dev/ref/mod asks of a proxy), and ``@latest`` is the ``.info`` of the version
the go command itself picks as latest (so retractions count). Every download is
checked against the known-good hashes in ``fixtures/goproxy/go.sum``.

After editing ``modules.txt``, :func:`update_sums` records into ``go.sum`` the
hashes the go command verified (against the checksum database the module proxy
serves).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from gauntlet.exceptions import LocalStackError
from gauntlet.goproxy.goclient import json_records
from gauntlet.paths import ROOT, cache_dir

MODULES_FILE = ROOT / "fixtures" / "goproxy" / "modules.txt"
SUMS_FILE = ROOT / "fixtures" / "goproxy" / "go.sum"
READY_MARKER = ".ready"
_STAMP = ".gauntlet-stamp"


@dataclass(frozen=True)
class ModuleVersion:
    """One ``module@version`` of the corpus."""

    path: str
    version: str

    def __str__(self) -> str:
        return f"{self.path}@{self.version}"


def load_modules(path: Path = MODULES_FILE) -> list[ModuleVersion]:
    """The corpus list: one ``module version`` per line, ``#`` starts a comment."""
    entries = []
    for line in path.read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            entries.append(ModuleVersion(*fields))
    return entries


def load_sums(path: Path = SUMS_FILE) -> dict[str, str]:
    """Known-good hashes, go.sum style: ``{"mod ver": "h1:…", "mod ver/go.mod": "h1:…"}``."""
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip():
            mod, ver, digest = line.split()
            sums[f"{mod} {ver}"] = digest
    return sums


def corpus_dir() -> Path:
    """Where the built corpus lives (a GOPROXY root, usable as ``file://`` URL)."""
    return cache_dir() / "goproxy" / "corpus"


def _go_env(modcache: Path, goproxy: str | None = None) -> dict[str, str]:
    env = dict(os.environ, GOMODCACHE=str(modcache), GOFLAGS="-modcacherw", GOTOOLCHAIN="local", GOWORK="off")
    if goproxy:
        env.update(GOPROXY=goproxy, GOSUMDB="off")  # a local file proxy: content was verified on download
    return env


def _go(args: list[str], env: dict[str, str], cwd: Path) -> str:
    go = shutil.which("go")
    if go is None:
        raise LocalStackError("the go command is not on PATH: it is needed to build the module corpus")
    proc = subprocess.run([go, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0 and not proc.stdout:
        raise LocalStackError(f"go {' '.join(args[:3])} … failed: {proc.stderr.strip()[:500]}")
    return proc.stdout


def download(modules: Iterable[ModuleVersion], modcache: Path) -> list[dict]:
    """``go mod download -json`` of each module version into ``modcache``; its JSON records."""
    records = list(json_records(_go(["mod", "download", "-json", *map(str, modules)], _go_env(modcache), modcache)))
    failed = [f"{r['Path']}@{r['Version']}: {r['Error']}" for r in records if r.get("Error")]
    if failed:
        more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
        raise LocalStackError("go mod download failed for " + "; ".join(failed[:3]) + more)
    return records


def _verify(records: list[dict], sums: dict[str, str]) -> None:
    for rec in records:
        for key, field in ((f"{rec['Path']} {rec['Version']}", "Sum"), (f"{rec['Path']} {rec['Version']}/go.mod", "GoModSum")):
            if sums.get(key) != rec[field]:
                raise LocalStackError(
                    f"{key}: the go command got {rec[field]}, {SUMS_FILE.name} has {sums.get(key, 'no line')} "
                    "(after editing modules.txt, run gauntlet.local.corpus.update_sums())"
                )


def _tidy(proxy_root: Path, modules: list[ModuleVersion], scratch: Path) -> None:
    """Rewrite ``@v/list`` without pseudo-versions and add ``@latest``, as the go command resolves them."""
    shutil.rmtree(proxy_root / "sumdb", ignore_errors=True)
    for junk in (*proxy_root.rglob("*.lock"), *proxy_root.rglob("*.ziphash"), *proxy_root.rglob("*.partial")):
        junk.unlink()
    env = _go_env(scratch, goproxy=proxy_root.as_uri())
    paths = sorted({m.path for m in modules})
    for rec in json_records(_go(["list", "-m", "-e", "-json", "-versions", "-retracted", *paths], env, scratch)):
        escaped = _escape(rec["Path"])
        (proxy_root / escaped / "@v" / "list").write_text("".join(f"{v}\n" for v in rec.get("Versions", [])))
    for rec in json_records(_go(["list", "-m", "-e", "-json", *(f"{p}@latest" for p in paths)], env, scratch)):
        if not rec.get("Error"):  # e.g. a module with pseudo-versions only has no latest release
            escaped = _escape(rec["Path"])
            info = proxy_root / escaped / "@v" / f"{_escape(rec['Version'])}.info"
            shutil.copyfile(info, proxy_root / escaped / "@latest")


def _escape(path: str) -> str:
    """The GOPROXY case encoding: every upper-case letter becomes ``!`` + its lower case."""
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in path)


def _stamp() -> str:
    digest = hashlib.sha256(MODULES_FILE.read_bytes() + SUMS_FILE.read_bytes())
    return digest.hexdigest()


def is_built() -> bool:
    """True when the corpus matches the current ``modules.txt`` and ``go.sum``."""
    stamp = corpus_dir() / _STAMP
    return stamp.is_file() and stamp.read_text() == _stamp()


def build(progress: Callable[[str], None] = print) -> Path:
    """Build the corpus unless it is current; returns its folder."""
    target = corpus_dir()
    if is_built():
        return target
    modules = load_modules()
    progress(f"building the module corpus: go mod download of {len(modules)} module versions")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix="corpus-build-") as tmp:
        modcache, scratch = Path(tmp) / "modcache", Path(tmp) / "scratch"
        modcache.mkdir()
        scratch.mkdir()
        _verify(download(modules, modcache), load_sums())
        proxy_root = modcache / "cache" / "download"
        _tidy(proxy_root, modules, scratch)
        (proxy_root / READY_MARKER).write_text("ok\n")
        (proxy_root / _STAMP).write_text(_stamp())
        shutil.rmtree(target, ignore_errors=True)
        proxy_root.rename(target)
    progress(f"module corpus ready at {target}")
    return target


def update_sums() -> None:
    """Download the corpus list and write the hashes the go command verified into ``go.sum``."""
    with tempfile.TemporaryDirectory() as tmp:
        records = download(load_modules(), Path(tmp))
    lines = sorted(
        {f"{r['Path']} {r['Version']} {r['Sum']}" for r in records}
        | {f"{r['Path']} {r['Version']}/go.mod {r['GoModSum']}" for r in records}
    )
    SUMS_FILE.write_text("".join(f"{line}\n" for line in lines))

