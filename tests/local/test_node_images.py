"""The real nodes' images: OCI archives made from this machine's files, self-consistent, deterministic, rebuilt
only on a change of their inputs, and imported and run by a throwaway containerd."""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import shutil
import signal
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from gauntlet.local import node_images, processes
from gauntlet.local.node_images import NGINX_IMAGE, PAUSE_IMAGE
from gauntlet.waiting import until


def quiet(_: str) -> None:
    pass


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """gauntlet's cache (where the archives go) in this test's own folder."""
    monkeypatch.setenv("GAUNTLET_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}


def opened(archive: Path) -> tuple[dict, dict, dict, bytes]:
    """index.json, manifest, config and layer of an archive, each blob checked against its digest and size."""
    with tarfile.open(archive) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    blobs = {name.removeprefix("blobs/sha256/"): data for name, data in files.items() if name.startswith("blobs/sha256/")}
    assert set(files) == {"oci-layout", "index.json", *(f"blobs/sha256/{h}" for h in blobs)}
    for hexdigest, data in blobs.items():
        assert hashlib.sha256(data).hexdigest() == hexdigest

    def blob(descriptor: dict) -> bytes:
        data = blobs[descriptor["digest"].removeprefix("sha256:")]
        assert descriptor["size"] == len(data)
        return data

    index = json.loads(files["index.json"])
    (entry,) = index["manifests"]
    assert entry["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    manifest = json.loads(blob(entry))
    config = json.loads(blob(manifest["config"]))
    (layer_descriptor,) = manifest["layers"]
    assert layer_descriptor["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
    layer = blob(layer_descriptor)
    assert config["rootfs"] == {"type": "layers", "diff_ids": [sha256(layer)]}
    assert (config["architecture"], config["os"]) == ("amd64", "linux")
    return index, manifest, config, layer


def resolve(tree: dict[str, tarfile.TarInfo], path: str, depth: int = 0) -> tarfile.TarInfo:
    """The member ``path`` names inside the image, following the image's own symlinks."""
    assert depth < 40, f"{path}: symlink loop in the image"
    parts = PurePosixPath(path).parts[1:]
    for i in range(1, len(parts)):
        member = tree["/".join(parts[:i])]
        if member.issym():
            return resolve(tree, posixpath.normpath(posixpath.join("/", *parts[:i - 1], member.linkname, *parts[i:])), depth + 1)
    member = tree["/".join(parts)]
    if member.issym():
        return resolve(tree, posixpath.normpath(posixpath.join("/", *parts[:-1], member.linkname)), depth + 1)
    return member


def test_nginx_archive_is_a_consistent_oci_layout_with_nginx_njs_and_a_shell(cache: Path) -> None:
    archive = node_images.build(quiet, [NGINX_IMAGE])[NGINX_IMAGE]
    assert archive == node_images.archive_path(NGINX_IMAGE) and archive.parent == cache / "images"
    index, manifest, config, layer = opened(archive)
    annotations = index["manifests"][0]["annotations"]
    assert annotations == {"io.containerd.image.name": NGINX_IMAGE, "org.opencontainers.image.ref.name": "1.22"}
    assert node_images.manifest_digest(archive) == index["manifests"][0]["digest"]
    assert config["config"]["Entrypoint"] == ["/usr/sbin/nginx", "-g", "daemon off;"]
    assert any(e.startswith("PATH=") for e in config["config"]["Env"])
    tree = members(layer)
    assert list(tree) == sorted(tree)
    assert all(m.mtime == 0 and m.uid == 0 and m.gid == 0 for m in tree.values())
    for path in ("/usr/sbin/nginx", "/usr/lib/nginx/modules/ngx_http_js_module.so", "/lib64/ld-linux-x86-64.so.2",
                 "/lib/x86_64-linux-gnu/libc.so.6", "/etc/nginx/mime.types", "/etc/passwd", "/etc/group"):
        assert resolve(tree, path).isfile(), path
    assert resolve(tree, "/bin/sh").name == resolve(tree, "/bin/busybox").name
    assert resolve(tree, "/usr/sbin/nginx").mode & 0o111
    assert resolve(tree, "/tmp").mode == 0o1777
    for path in ("/var/lib/nginx/body", "/var/lib/nginx/proxy", "/var/log/nginx", "/run"):
        assert resolve(tree, path).isdir(), path


def test_a_second_build_keeps_the_archive_and_stale_inputs_rebuild_it_identically(cache: Path) -> None:
    archive = node_images.build(quiet, [NGINX_IMAGE])[NGINX_IMAGE]
    first = archive.stat().st_mtime_ns, archive.read_bytes()
    time.sleep(0.01)
    said: list[str] = []
    node_images.build(said.append, [NGINX_IMAGE])
    assert archive.stat().st_mtime_ns == first[0]
    assert said == [f"{NGINX_IMAGE}: cached in {archive}"]
    archive.with_name(archive.name + ".inputs").write_text("inputs of another build")
    node_images.build(quiet, [NGINX_IMAGE])
    assert archive.stat().st_mtime_ns != first[0]
    assert archive.read_bytes() == first[1]  # same inputs, same bytes: the same digests on every machine like this one


def test_an_unknown_image_is_refused(cache: Path) -> None:
    with pytest.raises(node_images.LocalStackError, match="unknown node image"):
        node_images.build(quiet, ["docker.io/library/busybox:latest"])


@pytest.mark.slow
def test_pause_archive_holds_the_static_pause_of_the_pinned_kubernetes(cache: Path, tmp_path: Path) -> None:
    """Needs k8s.io/kubernetes in the Go module cache: go mod download fetches it (20 MB) when the kube build has not."""
    archive = node_images.build(quiet, [PAUSE_IMAGE])[PAUSE_IMAGE]
    index, _, config, layer = opened(archive)
    assert index["manifests"][0]["annotations"]["io.containerd.image.name"] == PAUSE_IMAGE
    assert (config["config"]["Entrypoint"], config["config"]["User"]) == (["/pause"], "65535:65535")
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        assert tar.getnames() == ["pause"]
        tar.extractall(tmp_path / "rootfs", filter="data")
    out = subprocess.run([str(tmp_path / "rootfs" / "pause"), "-v"], capture_output=True, text=True, timeout=10)
    assert out.stdout.strip() == "pause.c v3.10.2-v1.36.3"
    assert "statically linked" in subprocess.run(["file", str(tmp_path / "rootfs" / "pause")], capture_output=True,
                                                 text=True, timeout=10).stdout


@pytest.mark.slow
def test_a_containerd_that_does_not_answer_is_one_line_naming_its_socket(tmp_path: Path) -> None:
    """ctr's dial gives up after its --connect-timeout (5 s)."""
    with pytest.raises(node_images.LocalStackError) as caught:
        node_images.present(tmp_path / "containerd.sock")
    message = str(caught.value)
    assert message.startswith(f"ctr images ls on {tmp_path / 'containerd.sock'} failed (exit 1): ")
    assert "failed to dial" in message and "\n" not in message


# --------------------------------------------------------------------------- a real containerd


def _mounts_under(path: Path) -> list[str]:
    points = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return [p for p in points if p == str(path) or p.startswith(f"{path}/")]


def _processes_naming(text: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


@pytest.fixture
def containerd(tmp_path: Path) -> Iterator[Path]:
    """A containerd of this test's own (root, state, socket in tmp_path; no CRI); its socket. Afterwards it and
    its shims are stopped by pid and its mounts are gone. Its shims' sockets go to /run/containerd/s whatever
    the state dir: that folder is shared with the other containerds of the machine and left alone."""
    if os.geteuid() != 0 or not shutil.which("containerd") or not shutil.which("ctr"):
        pytest.skip("needs root and containerd (Debian's containerd package)")
    base = tmp_path / "ctd"
    base.mkdir()
    socket = base / "containerd.sock"
    config = base / "config.toml"
    config.write_text(f'version = 2\nroot = "{base}/root"\nstate = "{base}/state"\n'
                      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt"]\n'
                      f'[grpc]\n  address = "{socket}"\n[debug]\n  address = ""\n[metrics]\n  address = ""\n')
    daemon = processes.start(["containerd", "--config", str(config)], base / "containerd.log", base / "containerd.pid")

    def answers() -> bool:
        return socket.exists() and subprocess.run(["ctr", "--address", str(socket), "version"], capture_output=True,
                                                  timeout=10).returncode == 0

    try:
        until(answers, 30, 0.2, lambda: f"containerd to answer on {socket}:\n{processes.tail(base / 'containerd.log')}")
        yield socket
    finally:
        processes.stop(base / "containerd.pid", str(config), grace_s=10)
        daemon.wait(timeout=10)
        left = [pid for pid in _processes_naming(str(socket)) if pid != os.getpid()]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        for point in reversed(_mounts_under(tmp_path)):
            subprocess.run(["umount", point], capture_output=True, timeout=30)
        assert left == [], f"processes of the test's containerd left running: {left}"
        assert _mounts_under(tmp_path) == []


def _ctr(socket: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ctr", "--address", str(socket), "-n", "k8s.io", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.local_stack
@pytest.mark.slow
def test_containerd_imports_both_images_once_and_runs_them(cache: Path, containerd: Path, tmp_path: Path) -> None:
    said: list[str] = []
    node_images.import_into(containerd, said.append)
    archives = {name: node_images.archive_path(name) for name in node_images.IMAGES}
    assert node_images.present(containerd) == {name: node_images.manifest_digest(a) for name, a in archives.items()}
    assert sum("imported into" in line for line in said) == 2
    listed = _ctr(containerd, "images", "ls").stdout
    for name, archive in archives.items():
        assert any(line.split()[:1] == [name] and node_images.manifest_digest(archive) in line for line in listed.splitlines())
    said.clear()
    node_images.import_into(containerd, said.append)  # a warm node start: nothing imported again
    assert sum("already in" in line for line in said) == 2 and not any("imported into" in line for line in said)

    io_dirs = ("--fifo-dir", str(tmp_path / "fifo"), "--runc-root", str(tmp_path / "runc"))
    nginx = _ctr(containerd, "run", "--rm", *io_dirs, NGINX_IMAGE, "t1", "/usr/sbin/nginx", "-V")
    assert nginx.returncode == 0, nginx.stderr
    assert "nginx version: nginx/1.22" in nginx.stdout + nginx.stderr
    pause = _ctr(containerd, "run", "--rm", *io_dirs, PAUSE_IMAGE, "t2", "/pause", "-v")
    assert (pause.returncode, pause.stdout.strip()) == (0, "pause.c v3.10.2-v1.36.3"), pause.stderr
