"""Container images for the real kubelet nodes, built from local files: no registry, no download of an image.

Each image is one uncompressed layer in an OCI image layout, written as a tar archive into
``cache_dir()/images/`` and imported with ``ctr -n k8s.io images import`` (containerd 1.6 reads the
name from the manifest descriptor's ``io.containerd.image.name`` annotation):

- ``docker.io/local/pause:3.10``: ``build/pause/linux/pause.c`` of the k8s.io/kubernetes module
  (``go mod download``: the kube build has it in the module cache already), compiled with
  ``gcc -static``, its ``-DVERSION`` as the Makefile beside it spells it; user 65535 as upstream's Dockerfile.
- ``docker.io/local/nginx:1.22``: Debian's nginx and its njs module, every library ``ldd`` names for
  them and the loader, at their paths with the host's symlinks (merged /usr), busybox-static's applets,
  passwd/group/nsswitch and nginx's directories; stop signal SIGQUIT. No configuration: workloads pass ``-c``
  and mount theirs.

Archives are deterministic (sorted entries, mtime 0, uid/gid 0, sorted JSON): the same inputs give the
same digests. An archive is rewritten only when the hash of its inputs (their bytes, the image config and
:data:`FORMAT_VERSION`), kept beside it, changes.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gauntlet.exceptions import LocalStackError
from gauntlet.local import kube_build
from gauntlet.local.install import NGINX, NJS_MODULE, apt_install
from gauntlet.paths import cache_dir

PAUSE_IMAGE = "docker.io/local/pause:3.10"
NGINX_IMAGE = "docker.io/local/nginx:1.22"
IMAGES = (PAUSE_IMAGE, NGINX_IMAGE)
#: Bump when the archives' layout or content rules change: every cached archive is rebuilt.
FORMAT_VERSION = 1

BUSYBOX = Path("/bin/busybox")
MIME_TYPES = Path("/etc/nginx/mime.types")
#: What the images are made of, from Debian (gcc and libc6-dev for the static pause).
APT_PACKAGES = ("nginx", "libnginx-mod-http-js", "busybox-static", "gcc", "libc6-dev")
NAMESPACE = "k8s.io"  # the CRI plugin's namespace: images the kubelet can see
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_INDEX = "application/vnd.oci.image.index.v1+json"
_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_CONFIG = "application/vnd.oci.image.config.v1+json"
_LAYER = "application/vnd.oci.image.layer.v1.tar"
_EPOCH = "1970-01-01T00:00:00Z"
_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
_NGINX_DIRS = ("var/lib/nginx/body", "var/lib/nginx/proxy", "var/lib/nginx/fastcgi", "var/lib/nginx/uwsgi",
               "var/lib/nginx/scgi", "var/log/nginx", "run", "etc/nginx")
# Debian's ids; nginx's build defaults to "user nobody nogroup".
_PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
           "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
           "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
_GROUP = "root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n"
_NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"  # glibc 2.34+ has both built in
_TIMEOUT_S = 120

Progress = Callable[[str], None]


@dataclass(frozen=True)
class _Entry:
    """A member of a layer: a directory, a regular file (its bytes) or a symlink (its target)."""

    kind: str  # "dir", "file" or "symlink"
    mode: int = 0o755
    data: bytes = b""
    target: str = ""


_Layer = dict[str, _Entry]  # path inside the image, without the leading "/"


@dataclass(frozen=True)
class _Plan:
    """What an image is made of: the hash of its inputs (known without building) and how to make its layer."""

    key: str
    config: dict
    layer: Callable[[], _Layer]


# --------------------------------------------------------------------------- set-up and processes


def packages_installed() -> bool:
    return all(p.is_file() for p in (NGINX, NJS_MODULE, MIME_TYPES, BUSYBOX)) and shutil.which("gcc") is not None


def install_packages(progress: Progress = print) -> None:
    """apt-get install what the images are made of, unless there; nginx's own service never left running."""
    if not packages_installed():
        apt_install(APT_PACKAGES, ("nginx",), progress)


def _run(argv: list[str], what: str, timeout: float = _TIMEOUT_S, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> str:
    """Run a tool, bounded; LocalStackError naming ``what`` with its stderr's tail when it fails."""
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise LocalStackError(f"{what}: {argv[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise LocalStackError(f"{what}: no answer within {timeout:g} s ({' '.join(argv)})") from exc
    if proc.returncode != 0:
        raise LocalStackError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}")
    return proc.stdout


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _key(*parts: bytes | str) -> str:
    h = hashlib.sha256(f"gauntlet.local.node_images format {FORMAT_VERSION}\n".encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(f"{len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()


# --------------------------------------------------------------------------- layers


def _add_host_path(layer: _Layer, path: Path) -> None:
    """Copy ``path`` of this machine into ``layer`` at the same path, with each symlink met on the way
    (``/lib64`` -> ``usr/lib64``, ``libpcre2-8.so.0`` -> ``libpcre2-8.so.0.11.2``), so the loader's and
    the libraries' names resolve in the image as they do here."""
    for _ in range(40):
        parts = path.parts[1:]
        current = Path("/")
        for i, part in enumerate(parts):
            current = current / part
            if current.is_symlink():
                target = os.readlink(current)
                layer[str(current)[1:]] = _Entry("symlink", 0o777, target=target)
                rest = Path(*parts[i + 1:]) if i + 1 < len(parts) else Path()
                path = Path(os.path.normpath(current.parent / target / rest))
                break
        else:
            if current.is_dir():
                layer[str(current)[1:]] = _Entry("dir", 0o755)
            else:
                layer[str(current)[1:]] = _Entry("file", current.stat().st_mode & 0o7777, current.read_bytes())
            return
    raise LocalStackError(f"{path}: too many levels of symbolic links")


def _layer_key(layer: _Layer) -> bytes:
    """A canonical description of a layer (paths, kinds, modes, targets, content hashes) to hash."""
    return "".join(f"{p}\0{e.kind}\0{e.mode:o}\0{e.target}\0{hashlib.sha256(e.data).hexdigest()}\n"
                   for p, e in sorted(layer.items())).encode()


def _layer_tar(layer: _Layer) -> bytes:
    """The layer as an uncompressed tar: sorted, every parent directory present, owner root, mtime 0."""
    entries = dict(layer)
    for path in list(layer):
        parent = Path(path).parent
        while str(parent) != ".":
            entries.setdefault(str(parent), _Entry("dir", 0o755))
            parent = parent.parent
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(entries):
            entry = entries[path]
            info = _tar_info(path, entry.mode)
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
            elif entry.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, entry.target
            else:
                info.size = len(entry.data)
            tar.addfile(info, io.BytesIO(entry.data) if entry.kind == "file" else None)
    return buf.getvalue()


def _tar_info(name: str, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode, info.mtime, info.uid, info.gid, info.uname, info.gname = mode, 0, 0, 0, "", ""
    return info


# --------------------------------------------------------------------------- OCI layout


def _json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _descriptor(media_type: str, data: bytes) -> dict:
    return {"mediaType": media_type, "digest": _sha256(data), "size": len(data)}


def _oci_archive(name: str, layer: bytes, config: dict) -> bytes:
    """An OCI image layout as a tar: ``oci-layout``, ``index.json`` naming the image, and the blobs of its
    one layer, its config and its manifest."""
    arch = _ARCH.get(platform.machine())
    if arch is None:
        raise LocalStackError(f"no OCI architecture known for this machine ({platform.machine()})")
    image_config = _json({"architecture": arch, "os": "linux", "created": _EPOCH, "config": config,
                          "rootfs": {"type": "layers", "diff_ids": [_sha256(layer)]},
                          "history": [{"created": _EPOCH, "created_by": "gauntlet.local.node_images"}]})
    manifest = _json({"schemaVersion": 2, "mediaType": _MANIFEST, "config": _descriptor(_CONFIG, image_config),
                      "layers": [_descriptor(_LAYER, layer)]})
    index = _json({"schemaVersion": 2, "mediaType": _INDEX, "manifests": [
        {**_descriptor(_MANIFEST, manifest), "platform": {"architecture": arch, "os": "linux"},
         "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name.rpartition(":")[2]}}]})
    members = {"oci-layout": _json({"imageLayoutVersion": "1.0.0"}), "index.json": index}
    for blob in (layer, image_config, manifest):
        members["blobs/sha256/" + _sha256(blob).removeprefix("sha256:")] = blob
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(members):
            info = _tar_info(path, 0o644)
            info.size = len(members[path])
            tar.addfile(info, io.BytesIO(members[path]))
    return buf.getvalue()


def manifest_digest(archive: Path) -> str:
    """The digest of the manifest an archive's index.json names: what ``ctr images ls`` shows once imported."""
    try:
        with tarfile.open(archive) as tar:
            member = tar.extractfile("index.json")
            if member is None:
                raise KeyError("index.json is not a file")
            return str(json.load(member)["manifests"][0]["digest"])
    except (OSError, KeyError, IndexError, ValueError, tarfile.TarError) as exc:
        raise LocalStackError(f"{archive}: not an OCI archive of node_images ({exc})") from exc


# --------------------------------------------------------------------------- the images


def _pause_source() -> tuple[Path, str]:
    """pause.c of the pinned k8s.io/kubernetes module and its ``-DVERSION`` (``v$(TAG)-$(REV)`` of its Makefile)."""
    go = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")
    if go is None:
        raise LocalStackError("the go command is not installed: the pause image's source comes from the k8s.io/kubernetes module")
    module = f"k8s.io/kubernetes@{kube_build.KUBERNETES_VERSION}"
    cache_dir().mkdir(parents=True, exist_ok=True)
    out = _run([go, "mod", "download", "-json", module], f"go mod download {module}", timeout=900, cwd=cache_dir(),
               env=kube_build.go_env())
    info = json.loads(out)
    if info.get("Error") or not info.get("Dir"):
        raise LocalStackError(f"go mod download {module}: {info.get('Error') or 'no Dir in its answer'}")
    pause = Path(info["Dir"]) / "build" / "pause"
    tag = re.search(r"^TAG \?= (\S+)$", (pause / "Makefile").read_text(), re.MULTILINE)
    if tag is None:
        raise LocalStackError(f"{pause / 'Makefile'}: no 'TAG ?= ' line to take the pause version from")
    return pause / "linux" / "pause.c", f"v{tag[1]}-{kube_build.KUBERNETES_VERSION}"


def _pause_plan() -> _Plan:
    source, version = _pause_source()
    argv = ["gcc", "-static", "-O2", "-Wall", "-Werror", f"-DVERSION={version}", "-o", "pause", "pause.c"]
    gcc = _run(["gcc", "--version"], "gcc --version").splitlines()[0]
    libc = Path(_run(["gcc", "-print-file-name=libc.a"], "gcc -print-file-name").strip())
    config = {"Entrypoint": ["/pause"], "Env": [PATH_ENV], "User": "65535:65535", "WorkingDir": "/"}

    def layer() -> _Layer:
        with tempfile.TemporaryDirectory(prefix="gauntlet-pause-") as tmp:
            shutil.copyfile(source, Path(tmp) / "pause.c")  # compiled by its bare name: no path in the binary
            _run(argv, f"gcc of {source}", cwd=Path(tmp))
            return {"pause": _Entry("file", 0o755, (Path(tmp) / "pause").read_bytes())}

    return _Plan(_key(source.read_bytes(), " ".join(argv), gcc, libc.read_bytes() if libc.is_file() else b"", _json(config)),
                 config, layer)


def _shared_libraries(*binaries: Path) -> list[Path]:
    """The libraries and the loader ``ldd`` lists for each binary, as it names them."""
    found: dict[Path, None] = {}
    for binary in binaries:
        out = _run(["ldd", str(binary)], f"ldd {binary}", timeout=30)
        if "not found" in out:
            raise LocalStackError(f"ldd {binary}: a library is missing:\n{out.strip()}")
        found.update((Path(m), None) for m in re.findall(r"(/\S+) \(0x[0-9a-f]+\)", out))
    return list(found)


def _busybox_applets() -> list[str]:
    return [a for a in _run([str(BUSYBOX), "--list"], "busybox --list", timeout=30).split() if a != "busybox" and "/" not in a]


def _nginx_layer() -> _Layer:
    for path in (NGINX, NJS_MODULE, MIME_TYPES, BUSYBOX):
        if not path.is_file():
            raise LocalStackError(f"{path} is missing: the nginx image is made of Debian's {', '.join(APT_PACKAGES[:3])} "
                                  "(gauntlet.local.node_images.install_packages)")
    layer: _Layer = {}
    for top in ("/bin", "/sbin", "/lib", "/lib64"):  # the host's merged /usr, so each name resolves as here
        if Path(top).exists():
            _add_host_path(layer, Path(top))
    for path in (NGINX, NJS_MODULE, *_shared_libraries(NGINX, NJS_MODULE), MIME_TYPES, BUSYBOX):
        _add_host_path(layer, path)
    bin_dir = Path(os.path.realpath(BUSYBOX)).parent
    for applet in _busybox_applets():
        layer.setdefault(str(bin_dir / applet)[1:], _Entry("symlink", 0o777, target="busybox"))
    for name, text in (("etc/passwd", _PASSWD), ("etc/group", _GROUP), ("etc/nsswitch.conf", _NSSWITCH)):
        layer[name] = _Entry("file", 0o644, text.encode())
    for name in _NGINX_DIRS:
        layer[name] = _Entry("dir", 0o755)
    layer["tmp"] = _Entry("dir", 0o1777)
    return layer


def _nginx_plan() -> _Plan:
    layer = _nginx_layer()
    # SIGQUIT, nginx's graceful shutdown, as the kubelet's stop signal (the nginx image's STOPSIGNAL): requests in
    # flight are answered before the pod's process ends; SIGTERM would drop them.
    config = {"Entrypoint": ["/usr/sbin/nginx", "-g", "daemon off;"], "Env": [PATH_ENV], "StopSignal": "SIGQUIT",
              "WorkingDir": "/"}
    return _Plan(_key(_layer_key(layer), _json(config)), config, lambda: layer)


_PLANS: dict[str, Callable[[], _Plan]] = {PAUSE_IMAGE: _pause_plan, NGINX_IMAGE: _nginx_plan}


# --------------------------------------------------------------------------- build and import


def _images_dir() -> Path:
    return cache_dir() / "images"


def archive_path(name: str) -> Path:
    """``docker.io/local/nginx:1.22`` -> ``images/nginx-1.22.oci.tar``."""
    return _images_dir() / (name.rpartition("/")[2].replace(":", "-") + ".oci.tar")


@contextmanager
def _lock() -> Iterator[None]:
    _images_dir().mkdir(parents=True, exist_ok=True)
    with open(_images_dir() / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def build(progress: Progress = print, images: Iterable[str] = IMAGES) -> dict[str, Path]:
    """Write each image's OCI archive unless the one there was made from the same inputs; name -> archive."""
    wanted = tuple(images)
    unknown = sorted(set(wanted) - _PLANS.keys())
    if unknown:
        raise LocalStackError(f"unknown node image(s) {', '.join(unknown)}: known are {', '.join(IMAGES)}")
    out: dict[str, Path] = {}
    with _lock():
        for name in wanted:
            plan = _PLANS[name]()
            archive = archive_path(name)
            stamp = archive.with_name(archive.name + ".inputs")
            if archive.is_file() and stamp.is_file() and stamp.read_text() == plan.key:
                progress(f"{name}: cached in {archive}")
            else:
                data = _oci_archive(name, _layer_tar(plan.layer()), plan.config)
                partial = archive.with_name(archive.name + ".new")
                partial.write_bytes(data)
                os.replace(partial, archive)
                stamp.write_text(plan.key)
                progress(f"{name}: built {archive} ({len(data) / 2**20:.1f} MiB, manifest {manifest_digest(archive)})")
            out[name] = archive
    return out


def ctr(address: Path, *args: str, timeout: float = 60) -> str:
    """``ctr`` against the containerd at ``address`` (namespace k8s.io), bounded; LocalStackError when it fails."""
    argv = ["ctr", "--address", str(address), "--connect-timeout", "5s", "-n", NAMESPACE, *args]
    return _run(argv, f"ctr {' '.join(args[:2])} on {address}", timeout=timeout)


def present(address: Path) -> dict[str, str]:
    """Image name -> target digest in the containerd at ``address`` (namespace k8s.io)."""
    lines = ctr(address, "images", "ls").splitlines()[1:]  # REF TYPE DIGEST SIZE PLATFORMS LABELS
    return {parts[0]: parts[2] for parts in (line.split() for line in lines) if len(parts) >= 3}


def import_into(address: Path, progress: Progress = print) -> None:
    """Build (cached) and import every image into the containerd listening on ``address``; one already there
    with the same manifest digest is skipped, so a warm node start costs one ``ctr images ls``."""
    archives = build(progress)
    there = present(address)
    for name, archive in archives.items():
        digest = manifest_digest(archive)
        if there.get(name) == digest:
            progress(f"{name}: already in {address} ({digest})")
            continue
        ctr(address, "images", "import", "--all-platforms", str(archive), timeout=300)
        progress(f"{name}: imported into {address} ({digest})")
    if there.items() >= {name: manifest_digest(a) for name, a in archives.items()}.items():
        return
    after = present(address)
    wrong = [f"{name} is {after.get(name, 'missing')}, expected {manifest_digest(a)}" for name, a in archives.items()
             if after.get(name) != manifest_digest(a)]
    if wrong:
        raise LocalStackError(f"ctr images import into {address}: {'; '.join(wrong)}")


if __name__ == "__main__":  # python -m gauntlet.local.node_images
    for image, path in build().items():
        print(f"{image}\t{path}")
