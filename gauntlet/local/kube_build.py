"""Build the cluster tier's binaries from source, pinned, through the Go module proxy.

Nothing comes from release sites: every binary is compiled here with the
installed Go toolchain (``GOTOOLCHAIN=local``) from modules fetched through
``GOPROXY``, into ``cache_dir()/bin/<component>-<version>/``:

- ``kubernetes-v1.36.3/``: kube-apiserver, kube-controller-manager,
  kube-scheduler, kubectl, and the real nodes' kubelet and kube-proxy. ``go install k8s.io/kubernetes/cmd/...@v1.36.3``
  cannot work (k8s.io/kubernetes requires its staging modules at ``v0.0.0``
  replaced by ``./staging/...``), so a generated wrapper module requires
  k8s.io/kubernetes and replaces each of those staging modules, read from that
  release's own go.mod, with its published ``v0.36.3``. The version ldflags of
  ``hack/lib/version.sh`` make ``--version`` say ``Kubernetes v1.36.3``.
- ``etcd-v3.6.10/``: etcd, from a generated ``main`` calling
  ``go.etcd.io/etcd/server/v3/etcdmain.Main`` (etcd's own server/main.go) with
  the etcd modules pinned; the version kwok pairs with Kubernetes 1.36.
- ``kwok-v0.8.0/``: kwok and kwokctl (``go install ...@v0.8.0``; the first kwok
  release whose go.mod matches Go 1.26 and k8s.io/* v0.36), plus kwok's default
  Stage manifests copied from the module for the cluster tier to load.

The wrapper modules live in ``cache_dir()/build/``. A component whose binaries
exist and report the pinned version is not rebuilt. Builds run under
``nice -n 19``; a file lock keeps two builds from racing.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gauntlet.exceptions import LocalStackError
from gauntlet.paths import cache_dir

KUBERNETES_VERSION = "v1.36.3"
ETCD_VERSION = "v3.6.10"
KWOK_VERSION = "v0.8.0"
#: The oldest Go that builds all three (their go.mod files say ``go 1.26.0``).
MIN_GO = (1, 26)
#: kwok's default stages, as files of the kwok module, copied next to its binaries.
KWOK_STAGES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-complete.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
)
_KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kubelet", "kube-proxy")
_BUILD_TIMEOUT_S = 3 * 3600

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Component:
    """A group of binaries built together from one pinned module version."""

    name: str
    version: str
    binaries: tuple[str, ...]

    @property
    def bin_dir(self) -> Path:
        return cache_dir() / "bin" / f"{self.name}-{self.version}"

    @property
    def build_dir(self) -> Path:
        return cache_dir() / "build" / f"{self.name}-{self.version}"

    def paths(self) -> dict[str, Path]:
        return {b: self.bin_dir / b for b in self.binaries}


KUBERNETES = Component("kubernetes", KUBERNETES_VERSION, _KUBE_COMMANDS)
ETCD = Component("etcd", ETCD_VERSION, ("etcd",))
KWOK = Component("kwok", KWOK_VERSION, ("kwok", "kwokctl"))
COMPONENTS = (ETCD, KWOK, KUBERNETES)


# --------------------------------------------------------------------------- versions


def expected_version(binary: str) -> str:
    """The text that ``<binary> --version`` must contain."""
    if binary == "kubectl":
        return f"Client Version: {KUBERNETES_VERSION}"
    if binary.startswith("kube-") or binary == "kubelet":
        return f"Kubernetes {KUBERNETES_VERSION}"
    if binary == "etcd":
        return f"etcd Version: {ETCD_VERSION.removeprefix('v')}"
    return f"version {KWOK_VERSION} "  # "kwok version v0.8.0 go1.26.8 (linux/amd64)"


def version_argv(path: Path) -> list[str]:
    if path.name == "kubectl":
        return [str(path), "version", "--client"]
    return [str(path), "--version"]


def reported_version(path: Path) -> str:
    """What the binary says about its version ('' when it does not run)."""
    try:
        proc = subprocess.run(version_argv(path), capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (proc.stdout + proc.stderr).strip()


def is_current(path: Path) -> bool:
    """The binary exists, runs, and reports the pinned version."""
    return path.is_file() and expected_version(path.name) in reported_version(path)


def binaries() -> dict[str, Path]:
    """Where each binary is (or will be) once built."""
    out: dict[str, Path] = {}
    for comp in COMPONENTS:
        out.update(comp.paths())
    return out


def kwok_stages_dir() -> Path:
    """kwok's default Stage manifests, copied from the kwok module at build time."""
    return KWOK.bin_dir / "stages"


def built() -> bool:
    """Every binary is present and reports its pinned version (no build needed)."""
    return all(is_current(p) for p in binaries().values()) and all(
        (kwok_stages_dir() / Path(s).name).is_file() for s in KWOK_STAGES
    )


# --------------------------------------------------------------------------- go


def go_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The go command's environment: local toolchain only, static binaries, no VCS stamping."""
    env = dict(os.environ)
    env.update(
        GOTOOLCHAIN="local",  # never download another toolchain
        CGO_ENABLED="0",
        GOWORK="off",
        GOFLAGS="-buildvcs=false -modcacherw",
    )
    env.update(extra or {})
    return env


def _go() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").is_file() else None)
    if not go:
        raise LocalStackError("the go command is not installed: the cluster tier is built with Go "
                              f">= {MIN_GO[0]}.{MIN_GO[1]} through the Go module proxy")
    return go


def check_go() -> str:
    """The Go version, or LocalStackError when older than :data:`MIN_GO`."""
    proc = subprocess.run([_go(), "env", "GOVERSION"], capture_output=True, text=True, env=go_env(), timeout=60)
    version = proc.stdout.strip()
    m = re.match(r"go(\d+)\.(\d+)", version)
    if proc.returncode != 0 or not m:
        raise LocalStackError(f"go env GOVERSION failed: {proc.stderr.strip()[-300:]}")
    if (int(m[1]), int(m[2])) < MIN_GO:
        raise LocalStackError(f"{version} is too old: Kubernetes {KUBERNETES_VERSION}, etcd {ETCD_VERSION} and "
                              f"kwok {KWOK_VERSION} need go >= {MIN_GO[0]}.{MIN_GO[1]} (GOTOOLCHAIN=local)")
    return version


def _run(argv: list[str], cwd: Path, progress: Progress, what: str, env: dict[str, str] | None = None,
         on_line: Callable[[str], None] | None = None) -> str:
    """Run a go command under ``nice -n 19``; stream its lines to on_line; return its output."""
    progress(f"  $ {shlex.join(argv)}")
    argv = ["nice", "-n", "19", *argv] if shutil.which("nice") else argv
    proc = subprocess.Popen(argv, cwd=cwd, env=env or go_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines: list[str] = []
    assert proc.stdout is not None
    timer = threading.Timer(_BUILD_TIMEOUT_S, proc.kill)
    timer.start()
    done = threading.Event()
    if isinstance(on_line, _Ticker):  # keeps reporting while go links or downloads silently
        threading.Thread(target=on_line.heartbeat, args=(done,), daemon=True).start()
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if on_line:
                on_line(lines[-1])
        proc.wait()
    finally:
        done.set()
        timer.cancel()
    out = "\n".join(lines)
    if proc.returncode != 0:
        raise LocalStackError(f"{what} failed (exit {proc.returncode}):\n{out[-3000:]}")
    return out


class _Ticker:
    """Progress of a long go command: downloads and compiled packages, at most every 15 s."""

    def __init__(self, progress: Progress, label: str, total: int = 0) -> None:
        self.progress, self.label, self.total = progress, label, total
        self.downloads = self.compiled = 0
        self.started = self.last = time.monotonic()

    def __call__(self, line: str) -> None:
        if line.startswith("go: downloading "):
            self.downloads += 1
        elif line and not line.startswith(("go: ", "#")):
            self.compiled += 1  # go build -v prints each package it compiles
        if time.monotonic() - self.last >= 15:
            self.report()

    def heartbeat(self, done: threading.Event) -> None:
        while not done.wait(5):
            if time.monotonic() - self.last >= 30:
                self.report()

    def report(self) -> None:
        self.last = time.monotonic()
        of = f"/{self.total}" if self.total else ""
        self.progress(f"  {self.label}: {self.compiled}{of} packages compiled, {self.downloads} modules "
                      f"downloaded, {time.monotonic() - self.started:.0f} s")


def _download(module: str, progress: Progress) -> dict:
    """``go mod download -json module@version``: its Dir, GoMod, Info files."""
    out = _run([_go(), "mod", "download", "-json", module], cache_dir(), progress, f"go mod download {module}")
    info = json.loads(out[out.index("{"):])
    if info.get("Error"):
        raise LocalStackError(f"go mod download {module}: {info['Error']}")
    return info


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def _install(staging: Path, comp: Component) -> None:
    """Move freshly built binaries into place (a half-built set never looks current)."""
    comp.bin_dir.mkdir(parents=True, exist_ok=True)
    for name in comp.binaries:
        os.replace(staging / name, comp.bin_dir / name)
    shutil.rmtree(staging, ignore_errors=True)


def _verify(comp: Component) -> None:
    for name, path in comp.paths().items():
        if not is_current(path):
            raise LocalStackError(f"{path} was built but reports {reported_version(path)[:200]!r}, "
                                  f"expected {expected_version(name)!r}")


# --------------------------------------------------------------------------- kubernetes


def staging_modules(kubernetes_go_mod: str) -> list[str]:
    """The ``k8s.io/*`` modules that a k8s.io/kubernetes go.mod requires at ``v0.0.0`` (its staging tree)."""
    found = re.findall(r"^\s*(?:require\s+)?(k8s\.io/[A-Za-z0-9._-]+) v0\.0\.0\s*(?://.*)?$",
                       kubernetes_go_mod, re.MULTILINE)
    return sorted(set(found))


def staging_version(kubernetes_version: str = KUBERNETES_VERSION) -> str:
    """Kubernetes v1.Y.Z publishes its staging modules as v0.Y.Z."""
    major, minor, patch = kubernetes_version.removeprefix("v").split(".", 2)
    if major != "1":
        raise ValueError(f"unexpected Kubernetes version {kubernetes_version}")
    return f"v0.{minor}.{patch}"


def kubernetes_go_mod(modules: list[str], version: str = KUBERNETES_VERSION) -> str:
    """The wrapper module's go.mod: require k8s.io/kubernetes, staging modules at their published versions."""
    staged = staging_version(version)
    replaces = "".join(f"\t{m} => {m} {staged}\n" for m in modules)
    return ("// Generated by gauntlet.local.kube_build: builds k8s.io/kubernetes from the module proxy.\n"
            "module gauntlet.local/kubernetes-build\n\n"
            "go 1.26.0\n\n"
            "godebug default=go1.26\n\n"
            f"require k8s.io/kubernetes {version}\n\n"
            f"replace (\n{replaces})\n")


_KUBE_TOOLS_GO = """//go:build tools

// Generated by gauntlet.local.kube_build: keeps the commands' packages in go.mod.
package tools

import (
\t_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
\t_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
\t_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
\t_ "k8s.io/kubernetes/cmd/kubelet/app"
\t_ "k8s.io/kubernetes/cmd/kube-proxy/app"
\t_ "k8s.io/kubectl/pkg/cmd"
)
"""


def kubernetes_ldflags(version: str = KUBERNETES_VERSION, build_date: str = "1970-01-01T00:00:00Z") -> str:
    """hack/lib/version.sh's ``-X`` flags, for client-go and component-base."""
    major, minor = version.removeprefix("v").split(".")[:2]
    values = {"gitVersion": version, "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean",
              "buildDate": build_date}
    flags = [f"-X k8s.io/{pkg}/version.{key}={value}"
             for pkg in ("client-go/pkg", "component-base") for key, value in values.items()]
    return " ".join(["-s", "-w", *flags])


def build_kubernetes(progress: Progress = print) -> dict[str, Path]:
    comp = KUBERNETES
    progress(f"kubernetes {comp.version}: wrapper module in {comp.build_dir}")
    info = _download(f"k8s.io/kubernetes@{comp.version}", progress)
    modules = staging_modules(Path(info["GoMod"]).read_text())
    if len(modules) < 20:
        raise LocalStackError(f"found only {len(modules)} staging modules in {info['GoMod']}")
    progress(f"  {len(modules)} staging modules pinned to {staging_version(comp.version)}")
    _write(comp.build_dir / "go.mod", kubernetes_go_mod(modules, comp.version))
    _write(comp.build_dir / "tools.go", _KUBE_TOOLS_GO)
    _run([_go(), "mod", "tidy"], comp.build_dir, progress, "go mod tidy (kubernetes)",
         on_line=_Ticker(progress, "kubernetes go mod tidy"))
    packages = [f"k8s.io/kubernetes/cmd/{c}" for c in comp.binaries]
    deps = _run([_go(), "list", "-deps", *packages], comp.build_dir, progress, "go list -deps (kubernetes)")
    total = sum(1 for line in deps.splitlines() if line and not line.startswith("go: "))
    staging = comp.build_dir / "bin.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    build_date = json.loads(Path(info["Info"]).read_text()).get("Time", "1970-01-01T00:00:00Z")
    ticker = _Ticker(progress, "kubernetes go build", total)
    _run([_go(), "build", "-v", "-trimpath", "-ldflags", kubernetes_ldflags(comp.version, build_date),
          "-o", str(staging) + "/", *packages], comp.build_dir, progress, "go build (kubernetes)", on_line=ticker)
    ticker.report()
    _install(staging, comp)
    _verify(comp)
    return comp.paths()


# --------------------------------------------------------------------------- etcd

_ETCD_MODULES = ("go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/api/v3", "go.etcd.io/etcd/client/pkg/v3",
                 "go.etcd.io/etcd/client/v3", "go.etcd.io/etcd/pkg/v3")

_ETCD_MAIN_GO = """// Generated by gauntlet.local.kube_build: etcd's own server/main.go, built from the module proxy.
package main

import (
\t"os"

\t"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
\tetcdmain.Main(os.Args)
}
"""


def etcd_go_mod(version: str = ETCD_VERSION) -> str:
    requires = "".join(f"\t{m} {version}\n" for m in _ETCD_MODULES)
    return ("// Generated by gauntlet.local.kube_build: builds etcd from the module proxy.\n"
            "module gauntlet.local/etcd-build\n\n"
            "go 1.25.0\n\n"  # etcd v3.6's own go directive: same GODEBUG defaults as its releases
            f"require (\n{requires})\n")


def build_etcd(progress: Progress = print) -> dict[str, Path]:
    comp = ETCD
    progress(f"etcd {comp.version}: wrapper module in {comp.build_dir}")
    _write(comp.build_dir / "go.mod", etcd_go_mod(comp.version))
    _write(comp.build_dir / "main.go", _ETCD_MAIN_GO)
    _run([_go(), "mod", "tidy"], comp.build_dir, progress, "go mod tidy (etcd)",
         on_line=_Ticker(progress, "etcd go mod tidy"))
    # tidy may raise a pinned module through MVS: the binary must be the pinned release.
    listed = _run([_go(), "list", "-m", *_ETCD_MODULES], comp.build_dir, progress, "go list -m (etcd)")
    wrong = [line for line in listed.splitlines() if line.strip() and not line.endswith(" " + comp.version)]
    if wrong:
        raise LocalStackError(f"etcd modules resolved away from {comp.version}: {wrong}")
    staging = comp.build_dir / "bin.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    ldflags = f"-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=go.etcd.io/etcd/server/v3@{comp.version}"
    ticker = _Ticker(progress, "etcd go build")
    _run([_go(), "build", "-v", "-trimpath", "-ldflags", ldflags, "-o", str(staging / "etcd"), "."],
         comp.build_dir, progress, "go build (etcd)", on_line=ticker)
    ticker.report()
    _install(staging, comp)
    _verify(comp)
    return comp.paths()


# --------------------------------------------------------------------------- kwok


def build_kwok(progress: Progress = print) -> dict[str, Path]:
    """``go install sigs.k8s.io/kwok/cmd/{kwok,kwokctl}@v0.8.0``: its go.mod has no replace directives."""
    comp = KWOK
    progress(f"kwok {comp.version}: go install into {comp.bin_dir}")
    comp.build_dir.mkdir(parents=True, exist_ok=True)
    info = _download(f"sigs.k8s.io/kwok@{comp.version}", progress)
    staging = comp.build_dir / "bin.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    kube = KUBERNETES_VERSION.removeprefix("v")
    ldflags = (f"-s -w -X sigs.k8s.io/kwok/pkg/consts.Version={comp.version.removeprefix('v')} "
               f"-X sigs.k8s.io/kwok/pkg/consts.KubeVersion={kube}")
    ticker = _Ticker(progress, "kwok go install")
    _run([_go(), "install", "-v", "-trimpath", "-ldflags", ldflags,
          *(f"sigs.k8s.io/kwok/cmd/{b}@{comp.version}" for b in comp.binaries)],
         comp.build_dir, progress, "go install (kwok)", env=go_env({"GOBIN": str(staging)}), on_line=ticker)
    ticker.report()
    _install(staging, comp)
    stages = kwok_stages_dir()
    stages.mkdir(parents=True, exist_ok=True)
    for rel in KWOK_STAGES:
        shutil.copyfile(Path(info["Dir"]) / rel, stages / Path(rel).name)
    _verify(comp)
    return comp.paths()


# --------------------------------------------------------------------------- all


@contextmanager
def _lock(progress: Progress) -> Iterator[None]:
    path = cache_dir() / "build" / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"waiting for another build holding {path}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


_BUILDERS: dict[str, Callable[[Progress], dict[str, Path]]] = {
    "etcd": build_etcd,
    "kwok": build_kwok,
    "kubernetes": build_kubernetes,
}


def build(progress: Progress = print) -> dict[str, Path]:
    """Build what is missing or reports another version; return binary name -> path.

    Idempotent: a component whose binaries all report the pinned version is kept.
    """
    with _lock(progress):
        result: dict[str, Path] = {}
        for comp in COMPONENTS:
            extra_ok = comp is not KWOK or all((kwok_stages_dir() / Path(s).name).is_file() for s in KWOK_STAGES)
            if extra_ok and all(is_current(p) for p in comp.paths().values()):
                progress(f"{comp.name} {comp.version}: cached in {comp.bin_dir}")
                result.update(comp.paths())
                continue
            go_version = check_go()
            started = time.monotonic()
            progress(f"{comp.name} {comp.version}: building with {go_version} (GOTOOLCHAIN=local, nice -n 19)")
            result.update(_BUILDERS[comp.name](progress))
            progress(f"{comp.name} {comp.version}: built in {time.monotonic() - started:.0f} s -> {comp.bin_dir}")
        return result


if __name__ == "__main__":  # python -m gauntlet.local.kube_build
    for name, path in build().items():
        print(f"{name}\t{path}")
