"""The edge conformance suite against the real local tier: green when healthy, red on each edge fault, only there.

Each edge fault profile must turn exactly the claims it breaks (``gauntlet.local.FAULTS[f].breaks``)
violated, with evidence an on-call engineer can act on, while the suite's other claims stay verified.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

import gauntlet.local as local
from gauntlet import paths
from gauntlet.environment import load_environment

pytestmark = pytest.mark.local_stack

EDGE_CLAIMS = ("athens-edge-tls", "athens-edge-caches-modules", "athens-edge-lists-fresh", "athens-edge-honours-origin-headers")
WALL_TIME_BUDGET_S = 30


def edge_suite() -> tuple[dict, float]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "conformance", "local", "--suite", "edge", "-n", "2", "--json"],
                          capture_output=True, text=True, timeout=600, cwd=paths.ROOT)
    assert proc.stdout, proc.stderr[-2000:]
    return json.loads(proc.stdout), time.monotonic() - started


def claim(out: dict, claim_id: str) -> dict:
    return next(c for c in out["claims"] if c["id"] == claim_id)


@pytest.mark.parametrize("stack", [()], indirect=True, ids=["healthy"])
def test_healthy_edge_verifies_every_edge_claim_quickly(stack):
    out, seconds = edge_suite()
    for claim_id in EDGE_CLAIMS:
        assert claim(out, claim_id)["verdict"] == "verified", (claim_id, claim(out, claim_id)["evidence"][:3])
    assert out["summary"]["violated"] == 0, [c["evidence"][:2] for c in out["claims"] if c["verdict"] == "violated"]
    assert seconds < WALL_TIME_BUDGET_S, f"the edge suite took {seconds:.1f} s against the local edge, budget {WALL_TIME_BUDGET_S} s"
    tls = claim(out, "athens-edge-tls")
    assert not tls["partial"], tls["coverage"]["kinds"]
    ocsp = [f for f in tls["findings"] if "no OCSP response stapled" in f["observation"]]
    assert ocsp and {f["severity"] for f in ocsp} == {"info"}, f"OCSP stapling must be a finding: {tls['findings']}"
    assert "names no OCSP responder" in ocsp[0]["observation"], ocsp


EDGE_FAULTS = [
    # fault, what the evidence must say (each an observation naming URL or host, expected, found)
    ("edge-caches-list-forever", [
        "GET https://127.0.0.1:8443/github.com/pkg/errors/@v/list: 200",
        "expected at most 60 s (class module-lists), found max-age=31536000",
        "expected a refresh within 60 s",
    ]),
    ("edge-ignores-origin-cache-control", [
        "X-Cache: TCP_HIT",
        "although it says no-cache, no-store, must-revalidate",
        "GET https://127.0.0.1:8443/example.com/gauntlet/no-such-module/@v/list: 404",
        "Azure Front Door keeps it a random 1 to 3 days",
        "expected at most 60 s (cdn.error_max_ttl)",
    ]),
    ("edge-expired-cert", [
        "TLS 127.0.0.1:8443 (SNI goproxy.gauntlet.localhost): certificate",
        "OpenSSL (Supplied CA file): certificate has expired",
        "expired 30 days ago",
        "expected at least 14 days left",
    ]),
    ("edge-legacy-tls", [
        "TLS 127.0.0.1:8443 (SNI localhost): accepts TLS 1.0, TLS 1.1: expected TLS 1.2 and newer only",
        "outside mozilla-intermediate (tls.cipher_profile)",
    ]),
    ("edge-cbc-only", [
        "TLS 127.0.0.1:8443 (SNI goproxy.gauntlet.localhost): accepts only non-AEAD cipher suites (TLS 1.2 ",
        "TLS 1.2 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA (CBC mode: MAC-then-encrypt (Lucky Thirteen, padding oracles), SHA-1 MAC)",
        "the cause is the edge's cipher configuration, not its certificate",
        "the edge shares no cipher suite with it, its cipher configuration refused the handshake before any certificate",
    ]),
    ("edge-via-banner", [
        "GET https://127.0.0.1:8443/gauntlet/no-such-path: 404: Via: 1.1 edge (nginx/1.22.1)",
        "expected no software version in Via",
    ]),
    ("edge-no-http2", [
        "TLS 127.0.0.1:8443 (SNI goproxy.gauntlet.localhost) ALPN offering h2, http/1.1: expected h2 (endpoint edge, "
        "http2: true), found http/1.1",
    ]),
]


@pytest.mark.parametrize(("stack", "found"), [((f,), found) for f, found in EDGE_FAULTS],
                         indirect=["stack"], ids=[f for f, _ in EDGE_FAULTS])
def test_edge_fault_turns_exactly_its_claims_red(stack, found):
    fault = stack["faults"][0]
    breaks = local.FAULTS[fault].claims_in(load_environment("local", paths.ROOT / "environments"))
    out, _ = edge_suite()
    for claim_id in EDGE_CLAIMS:
        verdict = claim(out, claim_id)["verdict"]
        if claim_id in breaks:
            assert verdict == "violated", f"{fault}: the edge suite did not catch it ({claim_id} is {verdict})"
        else:
            assert verdict == "verified", f"{fault} must not break {claim_id}: {claim(out, claim_id)['evidence'][:3]}"
    evidence = "\n".join(line for claim_id in breaks for line in claim(out, claim_id)["evidence"])
    missing = [text for text in found if text not in evidence]
    assert not missing, f"{fault}: evidence lacks {missing}:\n{evidence[:3000]}"
    noise = [n for n in ("\nassert ", "+  where ", "Environment(name=", "Tls(hosts=") if n in evidence]
    assert not noise, f"{fault}: pytest's assertion rewriting or an object dump in the evidence: {noise}"


@pytest.mark.parametrize("stack", [("edge-strips-case-escapes",)], indirect=True, ids=["edge-strips-case-escapes"])
def test_protocol_fault_at_the_edge_leaves_the_edge_claims_verified(stack):
    """The case-escape fault breaks the protocol (the goproxy suite's claim), not caching: the artefact it breaks is
    reported as not judged, with why, and the edge claims stay verified."""
    out, _ = edge_suite()
    for claim_id in EDGE_CLAIMS:
        assert claim(out, claim_id)["verdict"] == "verified", (claim_id, claim(out, claim_id)["evidence"][:3])
    caching = "\n".join(claim(out, "athens-edge-caches-modules")["evidence"])
    assert "/github.com/!burnt!sushi/toml/@v/v1.3.2.zip" in caching and "404" in caching, caching[:2000]
