"""The bounded transport: a request ends at its deadline however slowly the answer comes, and an answer ends at
its cap; both are TargetErrors naming the URL (through :func:`gauntlet.answers.request`)."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from gauntlet import transport
from gauntlet.answers import request
from gauntlet.environment import Limits
from gauntlet.exceptions import TargetError, TargetUnreachable


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], str]]:
    """A loopback socket server answering each connection with ``reply(conn)``; returns its URL."""
    sockets: list[socket.socket] = []

    def start(reply: Callable[[socket.socket], None]) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        sockets.append(listener)

        def loop() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=_answer, args=(conn, reply), daemon=True).start()

        threading.Thread(target=loop, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for sock in sockets:
        sock.close()


def _answer(conn: socket.socket, reply: Callable[[socket.socket], None]) -> None:
    try:
        conn.recv(65536)
        reply(conn)
    except OSError:
        pass
    finally:
        conn.close()


def trickle(conn: socket.socket) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
        conn.sendall(bytes([byte]))
        time.sleep(0.3)


def endless(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    while True:
        conn.sendall(b"x" * 65536)


def bomb(conn: socket.socket) -> None:
    body = gzip.compress(b"\0" * (8 << 20))
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def test_a_trickle_ends_at_the_deadline_though_no_read_times_out(raw_server):
    url = raw_server(trickle)
    with transport.client(Limits()) as http:
        started = time.monotonic()
        with pytest.raises(TargetUnreachable, match=rf"GET {url}/x: no complete answer within 1 s, the request's deadline"):
            request(http, "GET", f"{url}/x", timeout=5, deadline_s=1.0)
    assert time.monotonic() - started < 2.0


def test_an_endless_answer_ends_at_the_cap_of_its_kind(raw_server):
    url = raw_server(endless)
    with transport.client(Limits(body_bytes={"list": 1 << 20})) as http:
        with pytest.raises(TargetError, match=rf"GET {url}/m/@v/list: the answer exceeded 1048576 bytes, the cap for this "
                                              r"kind of request \(limits.body_bytes.list\): not read further"):
            request(http, "GET", f"{url}/m/@v/list", timeout=5)


def test_a_compressed_answer_is_capped_as_decoded(raw_server):
    url = raw_server(bomb)
    with transport.client(Limits(body_bytes={"page": 1 << 20})) as http:
        with pytest.raises(TargetError, match=r"exceeded 1048576 bytes, .*limits.body_bytes.page"):
            request(http, "GET", f"{url}/index.html", timeout=5)


def test_an_answer_within_bounds_is_whole(raw_server):
    url = raw_server(lambda conn: conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nv1.0.0\n"))
    with transport.client(Limits()) as http:
        answer = request(http, "GET", f"{url}/m/@v/list", timeout=5)
    assert (answer.status, answer.body) == (200, b"v1.0.0\n")
