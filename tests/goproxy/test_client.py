"""The protocol client: redirects as the go command follows them, one fetch per URL, SNI and Host from server_name."""

from __future__ import annotations

import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import trustme

from gauntlet.exceptions import TargetUnreachable
from gauntlet.goproxy.client import GoproxyClient, PerThread


def client_of(handler, base: str = "https://proxy.test", **kwargs) -> GoproxyClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return GoproxyClient(base, lambda: http, **kwargs)


def redirecting(hops: int, last: str = "https://storage.test/blob"):
    """A server answering /x with `hops` redirects (/hop/1 ... /hop/N), then 200 at `last`."""
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        n = 0 if path == "/x" else int(path.rsplit("/", 1)[1]) if path.startswith("/hop/") else None
        if n is None:
            return httpx.Response(200, text="content")
        return httpx.Response(302, headers={"Location": f"/hop/{n + 1}" if n + 1 < hops else last})
    return handler


def test_redirects_are_followed_and_recorded():
    answer = client_of(redirecting(3)).get("x")
    assert (answer.status, answer.text, answer.refused) == (200, "content", "")
    assert answer.redirects == ("302 https://proxy.test/hop/1", "302 https://proxy.test/hop/2", "302 https://storage.test/blob")
    assert answer.describe().startswith("GET https://proxy.test/x (302 → https://proxy.test/hop/1; 302 → https://proxy.test/hop/2; "
                                        "302 → https://storage.test/blob): 200")


def test_the_tenth_redirect_is_refused_as_net_http_refuses_it():
    assert client_of(redirecting(9)).get("x").status == 200  # 9 redirects: 10 requests in all
    refused = client_of(redirecting(10)).get("x")
    assert (refused.status, len(refused.redirects), refused.refused) == (302, 9, "stopped after 10 redirects")
    assert "not followed: stopped after 10 redirects" in refused.describe()


def test_a_redirect_from_https_to_http_is_refused():
    refused = client_of(redirecting(1, last="http://storage.test/blob")).get("x")
    assert refused.status == 302 and refused.refused == (
        "redirected from secure URL https://proxy.test/x to insecure URL http://storage.test/blob")
    plain = client_of(redirecting(1, last="http://storage.test/blob"), base="http://proxy.test").get("x")
    assert plain.status == 200  # plain http to plain http is followed


def test_a_redirect_without_location_is_the_answer():
    answer = client_of(lambda request: httpx.Response(302, text="moved")).get("x")
    assert (answer.status, answer.redirects, answer.refused) == (302, (), "")


def test_each_url_is_fetched_once_and_shared_across_threads():
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            seen[request.url.path] += 1
        return httpx.Response(200, text=request.url.path)

    with ThreadPoolExecutor(4) as pool:
        client = client_of(handler, pool=pool)
        client.prefetch(["a", "b", "a"])
        answers = client.get_many(["a", "b", "c", "a"])
        assert [a.text for a in answers] == ["/a", "/b", "/c", "/a"]
        assert client.fetch("a").text == "/a"  # fetch asks again
    assert seen == {"/a": 2, "/b": 1, "/c": 1}


def test_a_failure_of_the_shared_answer_reaches_every_check_that_waits_for_it():
    """Not only no answer: a capped or otherwise failed answer must not leave other askers waiting for ever."""
    def too_large(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("boom")

    with ThreadPoolExecutor(2) as pool:
        client = client_of(too_large, pool=pool)
        client.prefetch(["x"])
        for _ in range(2):
            with pytest.raises(RuntimeError, match="boom"):
                client.get("x")


def test_no_answer_raises_naming_the_url_every_time_it_is_asked():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = client_of(refuse)
    for _ in range(2):
        with pytest.raises(TargetUnreachable, match=r"GET https://proxy.test/x: ConnectError: refused"):
            client.get("x")


@pytest.fixture
def named_server() -> Iterator[tuple[str, trustme.CA, list[tuple[str, str]]]]:
    """A TLS server on 127.0.0.1 whose certificate names only goproxy.example.test; it records (SNI, Host)."""
    ca = trustme.CA()
    seen: list[tuple[str, str]] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("goproxy.example.test").configure_cert(context)
    sni: dict[int, str] = {}
    context.sni_callback = lambda sock, name, _: sni.__setitem__(id(sock), name or "")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((sni.get(id(self.connection), ""), self.headers.get("Host", "")))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", ca, seen
    httpd.shutdown()
    httpd.server_close()


def test_server_name_is_sent_as_sni_and_host_to_an_edge_addressed_by_ip(named_server):
    url, ca, seen = named_server
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    clients = PerThread(lambda: httpx.Client(verify=trust, http2=True))
    try:
        assert GoproxyClient(url, clients, server_name="goproxy.example.test").get("x").status == 200
        with pytest.raises(TargetUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
            GoproxyClient(url, clients).get("x")  # without it, the certificate does not name 127.0.0.1
    finally:
        clients.close()
    assert seen == [("goproxy.example.test", "goproxy.example.test")]
