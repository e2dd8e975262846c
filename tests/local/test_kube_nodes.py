"""The real nodes' start-up, without starting them: what counts as a daemon serving its socket."""

from __future__ import annotations

import socket
from pathlib import Path

from gauntlet.local import kube_nodes


def test_a_socket_file_left_by_a_dead_daemon_is_not_served(tmp_path: Path) -> None:
    """A SIGKILLed containerd leaves its socket file: only a listener accepting connections counts as served."""
    path = tmp_path / "containerd.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    assert kube_nodes._accepts(path)
    listener.close()
    assert path.is_socket() and not kube_nodes._accepts(path)
    assert not kube_nodes._accepts(tmp_path / "missing.sock")
