"""Each fault profile really misconfigures the tier: the same probe, healthy and faulted, disagrees."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import uuid

import httpx
import pytest

import gauntlet.local as local
from gauntlet.edge.client import GO_CLIENT_CIPHERS
from gauntlet.local.ports import PORTS

pytestmark = pytest.mark.local_stack

TOML = "/github.com/!burnt!sushi/toml"
REPLICA_1, REPLICA_2 = (f"http://127.0.0.1:{PORTS[name]}" for name in ("replica-1", "replica-2"))
SUMDB = "/sumdb/sum.gauntlet.localhost"
_TESTED: set[str] = set()


def healthy_and(fault: str) -> pytest.MarkDecorator:
    """Run the test on the healthy tier and on the tier with ``fault``; ids 'healthy' and the fault's name."""
    _TESTED.add(fault)
    return pytest.mark.parametrize("stack", [(), (fault,)], indirect=True, ids=["healthy", fault])


def _faulted(stack: dict) -> bool:
    return bool(stack["faults"])


def test_every_profile_has_a_test_here() -> None:
    assert _TESTED == {name for name, fault in local.FAULTS.items() if fault.tier == "goproxy"}


@healthy_and("edge-caches-list-forever")
def test_edge_caches_list_forever(stack: dict, edge: httpx.Client) -> None:
    url = f"{TOML}/@v/list?nonce={uuid.uuid4().hex}"
    first, second = edge.get(url), edge.get(url)
    assert ("max-age=31536000" in first.headers["cache-control"]) == _faulted(stack), first.headers
    assert (second.headers["x-cache"] == "TCP_HIT") == _faulted(stack), second.headers


@healthy_and("edge-ignores-origin-cache-control")
def test_edge_ignores_origin_cache_control(stack: dict, edge: httpx.Client) -> None:
    url = f"{TOML}/@v/list?nonce={uuid.uuid4().hex}"
    edge.get(url)
    second = edge.get(url)
    assert "no-store" in second.headers["cache-control"], "the origin forbids storing lists"
    assert (second.headers["x-cache"] == "TCP_HIT") == _faulted(stack), second.headers


@healthy_and("edge-expired-cert")
def test_edge_expired_cert(stack: dict) -> None:
    trust = ssl.create_default_context(cafile=stack["ca_bundle"])
    try:
        with socket.create_connection(("127.0.0.1", PORTS["edge https"]), timeout=5) as raw:
            trust.wrap_socket(raw, server_hostname="goproxy.gauntlet.localhost").close()
        expired = False
    except ssl.SSLCertVerificationError as exc:
        expired = exc.verify_code == 10  # X509_V_ERR_CERT_HAS_EXPIRED
    assert expired == _faulted(stack)


@healthy_and("edge-legacy-tls")
@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_edge_legacy_tls(stack: dict) -> None:
    legacy = ssl.create_default_context(cafile=stack["ca_bundle"])
    legacy.minimum_version = legacy.maximum_version = ssl.TLSVersion.TLSv1
    legacy.set_ciphers("DEFAULT:@SECLEVEL=0")
    try:
        with socket.create_connection(("127.0.0.1", PORTS["edge https"]), timeout=5) as raw, \
                legacy.wrap_socket(raw, server_hostname="localhost") as conn:
            version = conn.version()
    except ssl.SSLError:
        version = None
    assert (version == "TLSv1") == _faulted(stack)


def _handshake(context: ssl.SSLContext) -> str | None:
    """The cipher suite a handshake with the edge settles on, None when the edge refuses it."""
    try:
        with socket.create_connection(("127.0.0.1", PORTS["edge https"]), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="goproxy.gauntlet.localhost") as conn:
                return conn.cipher()[0]
    except ssl.SSLError:
        return None


@healthy_and("edge-cbc-only")
def test_edge_cbc_only(stack: dict) -> None:
    default = ssl.create_default_context(cafile=stack["ca_bundle"])
    go_like = ssl.create_default_context(cafile=stack["ca_bundle"])
    go_like.set_ciphers(GO_CLIENT_CIPHERS)
    assert (_handshake(default) is None) == _faulted(stack), "OpenSSL's default client finds no suite in common"
    suite = _handshake(go_like)
    assert suite is not None and ("-SHA" in suite and "GCM" not in suite) == _faulted(stack), suite


@healthy_and("edge-no-http2")
def test_edge_no_http2(stack: dict, edge: httpx.Client) -> None:
    assert (edge.get("/healthz").http_version == "HTTP/1.1") == _faulted(stack)


@healthy_and("edge-via-banner")
def test_edge_via_banner(stack: dict, edge: httpx.Client) -> None:
    assert (edge.get("/healthz").headers.get("via") == "1.1 edge (nginx/1.22.1)") == _faulted(stack)


@healthy_and("edge-strips-case-escapes")
def test_edge_strips_case_escapes(stack: dict, edge: httpx.Client) -> None:
    through_edge = edge.get(f"{TOML}/@v/v1.4.0.mod")
    direct = httpx.get(f"http://127.0.0.1:{PORTS['replica-1']}{TOML}/@v/v1.4.0.mod")
    assert direct.status_code == 200
    assert (through_edge.status_code == 404) == _faulted(stack), through_edge.text


@healthy_and("replica-500")
def test_replica_500(stack: dict, edge: httpx.Client) -> None:
    replica_2 = f"http://127.0.0.1:{PORTS['replica-2']}"
    assert httpx.get(f"{replica_2}/healthz").status_code == 200, "the health check stays green"
    assert (httpx.get(f"{replica_2}{TOML}/@v/list").status_code == 500) == _faulted(stack)
    through_edge = [edge.get(f"{TOML}/@v/list").status_code for _ in range(4)]  # round robin: two reach replica-2
    assert (500 in through_edge) == _faulted(stack), through_edge


@healthy_and("replica-git-on-hot-path")
def test_replica_git_on_hot_path(stack: dict, edge: httpx.Client) -> None:
    health = httpx.get(f"http://127.0.0.1:{PORTS['replica-1']}/healthz")
    assert health.status_code == 200 and health.elapsed.total_seconds() < 0.2, "the health check stays fast"
    answer = edge.get(f"{TOML}/@v/list")  # never cached at the edge: the replica's own time
    assert answer.status_code == 200 and "v1.4.0" in answer.text, answer.text
    assert (answer.elapsed.total_seconds() >= 0.8) == _faulted(stack), answer.elapsed


@healthy_and("origin-404-as-403")
def test_origin_404_as_403(stack: dict, edge: httpx.Client) -> None:
    unknown = edge.get(f"/example.com/no-such-module/@v/v1.0.0.info?nonce={uuid.uuid4().hex}")
    assert unknown.status_code == (403 if _faulted(stack) else 404), unknown.text


@healthy_and("lb-no-healthcheck")
def test_lb_no_healthcheck(stack: dict, edge: httpx.Client) -> None:
    os.kill(stack["components"]["replica-2"]["pid"], signal.SIGKILL)
    codes = [edge.get(f"{TOML}/@v/list").status_code for _ in range(10)]  # lists are never cached: all reach the lb
    assert (any(code != 200 for code in codes)) == _faulted(stack), codes


@healthy_and("lb-no-retries")
def test_lb_no_retries(stack: dict, edge: httpx.Client) -> None:
    """The requests sent before the health checks take the killed replica out (two failed checks) fail, unretried."""
    os.kill(stack["components"]["replica-2"]["pid"], signal.SIGKILL)
    codes = [edge.get(f"{TOML}/@v/list").status_code for _ in range(10)]
    assert (any(code != 200 for code in codes)) == _faulted(stack), codes


@healthy_and("origin-redirect-target-broken")
def test_origin_redirect_target_broken(stack: dict) -> None:
    trust = ssl.create_default_context(cafile=stack["ca_bundle"])
    good, bad = (httpx.get(f"{r}{TOML}/@v/v1.3.2.zip", verify=trust) for r in (REPLICA_1, REPLICA_2))
    if _faulted(stack):
        assert good.status_code == bad.status_code == 302, (good, bad)
        assert good.headers["location"] == f"https://127.0.0.1:{PORTS['storage']}/modules{TOML}/@v/v1.3.2.zip"
        assert httpx.get(good.headers["location"], verify=trust).status_code == 200
        assert httpx.get(bad.headers["location"], verify=trust).status_code == 404
    else:
        assert good.status_code == bad.status_code == 200


@healthy_and("replica-flaky-not-found")
def test_replica_flaky_not_found(stack: dict) -> None:
    with httpx.Client(base_url=REPLICA_1) as replica:  # 200 misses: all 404 with p = 0.96^200 < 0.03 % when faulted
        codes = {replica.get(f"/github.com/pkg/errors/@v/v1.999.{n}.info").status_code for n in range(200)}
    assert codes == ({404, 500} if _faulted(stack) else {404}), codes


@healthy_and("replica-info-time-no-zone")
def test_replica_info_time_no_zone(stack: dict) -> None:
    info = httpx.get(f"{REPLICA_1}{TOML}/@v/v1.3.2.info").json()
    assert info["Time"] == ("2023-06-08T11:20:31" if _faulted(stack) else "2023-06-08T11:20:31Z"), info


@healthy_and("replica-info-drops-incompatible")
def test_replica_info_drops_incompatible(stack: dict) -> None:
    info = httpx.get(f"{REPLICA_2}/github.com/dgrijalva/jwt-go/@v/v3.2.0+incompatible.info").json()
    assert info["Version"] == ("v3.2.0" if _faulted(stack) else "v3.2.0+incompatible"), info


@healthy_and("replica-mod-crlf")
def test_replica_mod_crlf(stack: dict) -> None:
    mod = httpx.get(f"{REPLICA_1}{TOML}/@v/v1.3.2.mod").content
    assert (b"\r\n" in mod) == _faulted(stack), mod


@healthy_and("origin-lists-stored-versions")
def test_origin_lists_stored_versions(stack: dict) -> None:
    listed = httpx.get(f"{REPLICA_1}/golang.org/x/xerrors/@v/list").text.split()
    assert listed == (["v0.0.0-20240903120638-7835f813f4da"] if _faulted(stack) else []), listed
    assert httpx.get(f"{REPLICA_1}{TOML}/@v/list").text.split() == ["v1.2.1", "v1.3.2", "v1.4.0", "v1.5.0"]


@healthy_and("replica-2-lists-unstored-version")
def test_replica_2_lists_unstored_version(stack: dict) -> None:
    one, two = (httpx.get(f"{r}{TOML}/@v/list").text.split() for r in (REPLICA_1, REPLICA_2))
    assert one == ["v1.2.1", "v1.3.2", "v1.4.0", "v1.5.0"]
    assert two == one + (["v1.5.1"] if _faulted(stack) else []), two
    assert httpx.get(f"{REPLICA_2}{TOML}/@v/v1.5.1.info").status_code == 404


@healthy_and("replica-2-no-latest")
def test_replica_2_no_latest(stack: dict) -> None:
    one, two = (httpx.get(f"{r}{TOML}/@latest").status_code for r in (REPLICA_1, REPLICA_2))
    assert (one, two) == ((200, 404) if _faulted(stack) else (200, 200))


@healthy_and("origin-html-errors")
def test_origin_html_errors(stack: dict) -> None:
    missing = httpx.get(f"{REPLICA_1}/example.com/no-such-module/@v/list")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html" if _faulted(stack) else "text/plain"), missing.headers


@healthy_and("edge-cache-key-folds-case")
def test_edge_cache_key_folds_case(stack: dict, edge: httpx.Client) -> None:
    nonce = uuid.uuid4().hex
    own = edge.get(f"{TOML}/@v/v1.3.2.zip?nonce={nonce}")
    other = edge.get(f"/github.com/burntsushi/toml/@v/v1.3.2.zip?nonce={nonce}")
    assert own.status_code == 200
    if _faulted(stack):
        assert (other.status_code, other.headers["x-cache"], other.content) == (200, "TCP_HIT", own.content)
    else:
        assert other.status_code == 404, other.headers


@healthy_and("edge-no-sumdb-route")
def test_edge_no_sumdb_route(stack: dict, edge: httpx.Client) -> None:
    assert edge.get(f"{SUMDB}/supported").status_code == (404 if _faulted(stack) else 200)
    assert httpx.get(f"{REPLICA_1}{SUMDB}/supported").status_code == 200


@healthy_and("replica-sumdb-upstream-down")
def test_replica_sumdb_upstream_down(stack: dict) -> None:
    assert httpx.get(f"{REPLICA_1}{SUMDB}/supported").status_code == 200
    lookup = httpx.get(f"{REPLICA_1}{SUMDB}/lookup/github.com/pkg/errors@v0.9.1")
    assert lookup.status_code == (502 if _faulted(stack) else 200), lookup.text
