"""TLS at the edge, scanned with sslyze for every hostname the environment lists (``tls.hosts``).

Rules: RFC 5280 and the trust stores (chain), RFC 6125 (the name in the certificate), RFC 8996
(TLS 1.0 and 1.1 deprecated) and RFC 7568 (SSL 3.0), RFC 7465 (no RC4) and SWEET32 (no 64-bit
block ciphers), Mozilla's server-side TLS configurations (cipher policy, ``tls.cipher_profile``),
RFC 6797 (HSTS), RFC 6066/6961 (OCSP stapling). Seeds: Front Door does "TLS termination" for
Athens (000); ACM certificates at CloudFront for Artifact Hub (004).

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import pytest

from gauntlet.edge import cipher_profile
from gauntlet.edge.targets import TlsTarget
from gauntlet.environment import Environment
from gauntlet.ledger import FINDING

_ORDER = ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")


def _where(target: TlsTarget) -> str:
    return f"TLS {target.address}:{target.port} (SNI {target.host})"


def _scanned(findings: dict, target: TlsTarget) -> dict:
    if not findings["reachable"]:
        pytest.fail(f"{findings['error']}: expected a TLS handshake for {target.host}")
    return findings


def _certificates(findings: dict, target: TlsTarget) -> list[dict]:
    certificates = _scanned(findings, target)["certificates"]
    if not certificates:
        pytest.fail(f"{_where(target)}: no certificate retrieved ({findings['scan_errors'].get('certificate', 'no reason given')})")
    return certificates


def _validation_errors(certificate: dict) -> str:
    """The most telling refusal of each validator: the supplied CA file's, else Mozilla's."""
    parts = []
    for validator in ("openssl", "sslyze"):
        errors = certificate["validation"][validator]
        for store in ("Supplied CA file", "Mozilla"):
            if errors.get(store):
                parts.append(f"{'OpenSSL' if validator == 'openssl' else 'sslyze'} ({store}): {errors[store]}")
                break
    return "; ".join(parts) or "no trust store validated it"


@pytest.mark.check("edge.tls.chain-trusted")
def test_certificate_chain_is_trusted(tls_scan, tls_target, record_property):
    """The chain served for the host validates to a trusted root: the public stores, or the endpoint's CA bundle."""
    for certificate in _certificates(tls_scan, tls_target):
        record_property("certificate", {k: certificate[k] for k in ("subject", "issuer", "not_after", "trusted_by", "profile_errors")})
        stores = f"the CA bundle {tls_target.endpoint.ca_path} or the public roots" if tls_target.endpoint.ca_path else "the public roots"
        assert certificate["trusted"], (
            f"{_where(tls_target)}: certificate '{certificate['subject']}' (issuer '{certificate['issuer']}', valid until "
            f"{certificate['not_after']}) is not trusted: {_validation_errors(certificate)}; expected a chain to {stores}")


@pytest.mark.check("edge.tls.names-the-host")
def test_certificate_names_the_host(tls_scan, tls_target):
    """RFC 6125: the host is one of the certificate's subjectAltNames (a wildcard covers one left-most label)."""
    for certificate in _certificates(tls_scan, tls_target):
        names = certificate["san_dns"] + certificate["san_ip"]
        assert certificate["hostname_matches"], (
            f"{_where(tls_target)}: certificate '{certificate['subject']}' names {names or 'no subjectAltName'}: "
            f"expected it to cover {tls_target.host}")


@pytest.mark.check("edge.tls.far-from-expiry")
def test_certificate_is_far_from_expiry(tls_scan, tls_target, environment: Environment):
    """Days left before the certificate expires are at least ``tls.min_days_to_expiry``: renewal happens well before."""
    minimum = environment.tls.min_days_to_expiry
    for certificate in _certificates(tls_scan, tls_target):
        days = certificate["days_to_expiry"]
        state = f"expired {-days:.0f} days ago" if days < 0 else f"expires in {days:.0f} days"
        assert days >= minimum, (
            f"{_where(tls_target)}: certificate '{certificate['subject']}' {state} ({certificate['not_after']}): "
            f"expected at least {minimum} days left (tls.min_days_to_expiry); renew it")


@pytest.mark.check("edge.tls.min-version")
def test_only_tls_1_2_or_newer(tls_scan, tls_target, environment: Environment):
    """Only TLS 1.2 and 1.3 (or 1.3 only, by ``tls.min_version``): SSL 3.0 (RFC 7568) and TLS 1.0/1.1 (RFC 8996) are refused."""
    protocols = _scanned(tls_scan, tls_target)["protocols"]
    minimum = f"TLS {environment.tls.min_version}"
    too_old = _ORDER[: _ORDER.index(minimum)]
    unknown = [v for v in _ORDER if protocols.get(v) is None]
    assert not unknown, f"{_where(tls_target)}: could not determine support for {unknown}: {tls_scan['scan_errors']}"
    accepted = [v for v in _ORDER if protocols[v]]
    old = [v for v in too_old if protocols[v]]
    assert not old, f"{_where(tls_target)}: accepts {', '.join(old)}: expected {minimum} and newer only, found {', '.join(accepted)}"
    assert accepted, f"{_where(tls_target)}: accepts no protocol version at all"


@pytest.mark.check("edge.tls.no-weak-ciphers")
def test_no_weak_cipher_suites(tls_scan, tls_target):
    """No cipher suite that is broken or below 128-bit security: NULL, anonymous, export, RC4, DES/3DES, RC2/IDEA, MD5."""
    weak = _scanned(tls_scan, tls_target)["weak_ciphers"]
    shown = "; ".join(f"{w['protocol']} {w['name']} ({w['why']})" for w in weak[:6])
    shown += f"; and {len(weak) - 6} more" if len(weak) > 6 else ""
    assert not weak, f"{_where(tls_target)}: accepts {len(weak)} weak cipher suites: {shown}; expected none"


def _listed(suites: list[dict], limit: int = 6) -> str:
    shown = "; ".join(f"{s['protocol']} {s['name']} ({s['why']})" for s in suites[:limit])
    return shown + (f"; and {len(suites) - limit} more" if len(suites) > limit else "")


@pytest.mark.check("edge.tls.cipher-profile")
def test_cipher_suites_keep_to_the_profile(tls_scan, tls_target, environment: Environment):
    """Every cipher suite the edge accepts is one the named profile allows (``tls.cipher_profile``, Mozilla
    intermediate by default: ECDHE or DHE key exchange with AES-GCM or ChaCha20-Poly1305, and TLS 1.3's):
    no static RSA key exchange, no CBC mode, no SHA-1 MAC. A configuration with no AEAD suite at all is named
    as such: clients offering only AEAD suites (OpenSSL's and Python's defaults) cannot connect to it."""
    profile = environment.tls.cipher_profile
    ciphers = _scanned(tls_scan, tls_target)["ciphers"]
    accepted = sum(len(v) for v in ciphers.values())
    off = cipher_profile.outside(ciphers, profile)
    if cipher_profile.without_aead(ciphers):
        pytest.fail(f"{_where(tls_target)}: accepts only non-AEAD cipher suites ({_listed(off)}): expected the "
                    f"{profile} suites (tls.cipher_profile); clients that offer only AEAD suites (OpenSSL's and "
                    "Python's defaults leave out SHA-1 CBC) find no suite in common and fail the handshake: the cause "
                    "is the edge's cipher configuration, not its certificate", pytrace=False)
    assert not off, (f"{_where(tls_target)}: accepts {len(off)} of its {accepted} cipher suites outside {profile} "
                     f"(tls.cipher_profile): {_listed(off)}; expected only the profile's suites")


@pytest.mark.check("edge.tls.hsts")
def test_hsts_with_a_long_max_age(tls_scan, tls_target, environment: Environment):
    """RFC 6797: ``Strict-Transport-Security`` with a max-age of at least ``tls.hsts_min_max_age``."""
    hsts = _scanned(tls_scan, tls_target)["hsts"]
    minimum = environment.tls.hsts_min_max_age
    where = f"{_where(tls_target)} GET https://{tls_target.host}/"
    if hsts is None or hsts["http_error"]:
        reason = hsts["http_error"] if hsts else tls_scan["scan_errors"].get("http headers", "no HTTP answer")
        pytest.fail(f"{where}: no HTTP answer to read Strict-Transport-Security from ({reason})")
    assert hsts["present"], f"{where}: no Strict-Transport-Security header: expected max-age >= {minimum}"
    assert hsts["max_age"] is not None and hsts["max_age"] >= minimum, (
        f"{where}: Strict-Transport-Security max-age={hsts['max_age']}: expected at least {minimum} (tls.hsts_min_max_age)")


@pytest.mark.check("edge.tls.ocsp-stapling")
def test_ocsp_stapling(tls_scan, tls_target, environment: Environment, record_property):
    """RFC 6066: a stapled OCSP response says the certificate is good; a must-staple certificate has one. No staple
    fails where the environment requires stapling (``tls.require_ocsp_stapling``) and is a finding otherwise: severity
    low when the certificate names an OCSP responder (each client then asks it itself), info when it names none (as
    testssl.sh grades it)."""
    missing = []
    for certificate in _certificates(tls_scan, tls_target):
        ocsp = certificate["ocsp"]
        record_property("ocsp", ocsp)
        if ocsp["stapled"]:
            assert ocsp["response_status"] == "successful" and ocsp["certificate_status"] == "good", (
                f"{_where(tls_target)}: stapled OCSP response is {ocsp['response_status']}, certificate status "
                f"{ocsp['certificate_status']}: expected successful and good")
            continue
        assert not ocsp["must_staple"], f"{_where(tls_target)}: the certificate demands OCSP stapling (must-staple) but none is stapled"
        missing.append(certificate)
    if not missing:
        return
    assert not environment.tls.require_ocsp_stapling, (
        f"{_where(tls_target)}: no OCSP response stapled: expected one (tls.require_ocsp_stapling)")
    responder = next((c["ocsp"]["responder"] for c in missing if c["ocsp"]["responder"]), None)
    if responder:
        found = {"severity": "low", "observation": f"{_where(tls_target)}: no OCSP response stapled: each client asks "
                                                   f"the certificate's responder {responder} itself"}
    else:
        found = {"severity": "info", "observation": f"{_where(tls_target)}: no OCSP response stapled; the certificate "
                                                    f"'{missing[0]['subject']}' names no OCSP responder"}
    record_property(FINDING, found)
