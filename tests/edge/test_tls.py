"""Interpretation of sslyze's results: real result objects in, JSON-serialisable findings out.

Certificates are made here with ``cryptography`` and analysed by sslyze's own
``CertificateDeploymentAnalyzer``, the code its certificate scan runs; cipher suites are sslyze's
``CipherSuite`` records under their IANA names. The only network use is a refused loopback port.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sslyze import CertificateInfoScanResult, CipherSuite, CipherSuiteAcceptedByServer, CipherSuitesScanResult, TlsVersionEnum
from sslyze.plugins.certificate_info._cert_chain_analyzer import CertificateDeploymentAnalyzer
from sslyze.plugins.certificate_info.trust_stores.trust_store import TrustStore
from sslyze.plugins.http_headers_plugin import HttpHeadersScanResult, StrictTransportSecurityHeader

from gauntlet.edge import tls
from gauntlet.exceptions import TargetUnreachable

NOW = dt.datetime.now(dt.UTC)
HOST = "goproxy.gauntlet.localhost"


class Ca:
    """A small CA: its certificate file, and leaves it signs."""

    def __init__(self, folder: Path, name: str = "gauntlet test CA") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, name)])
        self.cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.path = folder / f"{name.replace(' ', '-')}.pem"
        self.path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def leaf(self, *names: str, days: tuple[int, int] = (-1, 90), san_critical: bool = False) -> str:
        key = ec.generate_private_key(ec.SECP256R1())
        san = x509.SubjectAlternativeName([x509.DNSName(n) for n in names])
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gauntlet test edge")]))
            .issuer_name(self.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW + dt.timedelta(days=days[0])).not_valid_after(NOW + dt.timedelta(days=days[1]))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(san, critical=san_critical)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


@pytest.fixture
def ca(tmp_path: Path) -> Ca:
    return Ca(tmp_path)


def analyse(leaf_pem: str, ca: Ca, host: str = HOST, ca_file: Path | None = None):
    """What sslyze's certificate scan produces for this chain, validated against the CA as 'Supplied CA file'."""
    deployment = CertificateDeploymentAnalyzer(
        server_subject=x509.DNSName(host), server_certificate_chain_as_pem=[leaf_pem], server_ocsp_response=None,
        trust_stores_for_validation=[TrustStore(ca_file or ca.path, "Supplied CA file", "N/A")]).perform()
    return tls.deployment_findings(deployment, host, ca_file or ca.path, NOW)


def test_a_valid_chain_is_trusted_by_sslyzes_validation(ca):
    found = analyse(ca.leaf(HOST, "localhost"), ca)
    assert found["trusted"] and found["trusted_by"] == ["Supplied CA file"] and found["profile_errors"] == []
    assert found["hostname_matches"] and found["san_dns"] == [HOST, "localhost"]
    assert 89 <= found["days_to_expiry"] <= 90
    assert found["ocsp"] == {"stapled": False, "must_staple": False, "responder": None, "response_status": None,
                             "certificate_status": None, "trusted": None}
    json.dumps(found)


def test_a_critical_san_is_trusted_by_openssl_and_reported_as_a_profile_error(ca):
    """trustme (the local stack's CA) marks the SAN critical beside a non-empty subject: cryptography's verifier refuses
    that CA/Browser Forum profile deviation, OpenSSL and the go command accept the chain."""
    found = analyse(ca.leaf(HOST, san_critical=True), ca)
    assert found["trusted"] and found["trusted_by"] == ["Supplied CA file (OpenSSL)"]
    assert found["profile_errors"] == ["EE subjectAltName MUST NOT be critical when subject is nonempty"]


def test_an_expired_certificate_is_not_trusted_and_says_so(ca):
    found = analyse(ca.leaf(HOST, days=(-397, -30)), ca)
    assert not found["trusted"] and found["days_to_expiry"] == pytest.approx(-30, abs=0.1)
    assert found["validation"]["openssl"]["Supplied CA file"] == "certificate has expired"
    assert found["validation"]["sslyze"]["Supplied CA file"] == "cert is not valid at validation time"


def test_a_chain_to_another_ca_is_not_trusted(ca, tmp_path):
    other = Ca(tmp_path, "someone else's CA")
    found = analyse(other.leaf(HOST), ca)
    assert not found["trusted"]
    assert found["validation"]["openssl"]["Supplied CA file"] == "unable to get local issuer certificate"


def test_a_certificate_for_other_names_does_not_match_the_host(ca):
    found = analyse(ca.leaf("www.example.test"), ca)
    assert not found["hostname_matches"] and found["san_dns"] == ["www.example.test"]


def test_certificate_findings_cover_every_deployment(ca):
    deployments = [CertificateDeploymentAnalyzer(
        server_subject=x509.DNSName(HOST), server_certificate_chain_as_pem=[ca.leaf(HOST)], server_ocsp_response=None,
        trust_stores_for_validation=[TrustStore(ca.path, "Supplied CA file", "N/A")]).perform() for _ in range(2)]
    result = CertificateInfoScanResult(hostname_used_for_server_name_indication=HOST, certificate_deployments=deployments,
                                       certificate_deployment_with_sni_disabled=None)
    assert [c["trusted"] for c in tls.certificate_findings(result, HOST, ca.path, NOW)] == [True, True]


@pytest.mark.parametrize(("host", "names", "ips", "matches"), [
    ("goproxy.gauntlet.localhost", ["localhost", "goproxy.gauntlet.localhost"], ["127.0.0.1"], True),
    ("127.0.0.1", ["localhost"], ["127.0.0.1"], True),
    ("athens.azurefd.net", ["*.azurefd.net"], [], True),
    ("a.b.azurefd.net", ["*.azurefd.net"], [], False),      # a wildcard covers one label
    ("azurefd.net", ["*.azurefd.net"], [], False),
    ("ARTIFACTHUB.io.", ["artifacthub.io"], [], True),
    ("127.0.0.1", ["127.0.0.1"], [], False),                # an address matches an IP entry only
])
def test_host_matching(host, names, ips, matches):
    assert tls.host_matches(host, names, ips) is matches


@pytest.mark.parametrize(("name", "key_size", "anonymous", "weak"), [
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 128, False, None),
    ("TLS_CHACHA20_POLY1305_SHA256", 256, False, None),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 128, False, None),  # CBC: dated, not broken
    ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", 168, False, "DES/3DES: 64-bit block (SWEET32)"),
    ("TLS_ECDHE_RSA_WITH_RC4_128_SHA", 128, False, "RC4 (RFC 7465 prohibits it)"),
    ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", 40, False, "export-grade (40/56-bit)"),
    ("TLS_RSA_WITH_NULL_SHA256", 0, False, "NULL cipher: no encryption"),
    ("TLS_DH_anon_WITH_AES_128_CBC_SHA", 128, True, "anonymous key exchange: the server is not authenticated"),
    ("SSL_CK_RC4_128_WITH_MD5", 128, False, "RC4 (RFC 7465 prohibits it)"),
    ("TLS_RSA_WITH_IDEA_CBC_SHA", 128, False, "RC2/IDEA: 64-bit block, obsolete"),
    ("TLS_RSA_WITH_DES_CBC_SHA", 56, False, "DES/3DES: 64-bit block (SWEET32)"),
])
def test_weak_cipher_suites(name, key_size, anonymous, weak):
    assert tls.weak_cipher_reason(name, key_size, anonymous) == weak


def _suites(version: TlsVersionEnum, *accepted: tuple[str, int]) -> CipherSuitesScanResult:
    return CipherSuitesScanResult(tls_version_used=version, rejected_cipher_suites=[], accepted_cipher_suites=[
        CipherSuiteAcceptedByServer(cipher_suite=CipherSuite(name=n, openssl_name=n, is_anonymous=False, key_size=k), ephemeral_key=None)
        for n, k in accepted])


def test_cipher_findings_name_protocols_and_weak_suites():
    found = tls.cipher_findings({
        "SSL 3.0": _suites(TlsVersionEnum.SSL_3_0),
        "TLS 1.0": _suites(TlsVersionEnum.TLS_1_0, ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", 168), ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 128)),
        "TLS 1.2": _suites(TlsVersionEnum.TLS_1_2, ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 128)),
        "TLS 1.3": None,  # the scan command failed: undetermined, not "refused"
    })
    assert found["protocols"] == {"SSL 3.0": False, "TLS 1.0": True, "TLS 1.2": True, "TLS 1.3": None}
    assert found["weak_ciphers"] == [{"protocol": "TLS 1.0", "name": "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
                                      "why": "DES/3DES: 64-bit block (SWEET32)"}]
    assert found["ciphers"]["TLS 1.2"] == [{"name": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "key_size": 128}]
    json.dumps(found)


def test_hsts_findings():
    header = StrictTransportSecurityHeader(max_age=31536000, preload=False, include_subdomains=True)
    found = tls.hsts_findings(HttpHeadersScanResult(http_request_sent="GET / HTTP/1.1", http_error_trace=None,
                                                    http_path_redirected_to="/", strict_transport_security_header=header))
    assert found == {"present": True, "max_age": 31536000, "include_subdomains": True, "preload": False, "http_error": None, "path": "/"}
    missing = tls.hsts_findings(HttpHeadersScanResult(http_request_sent="", http_error_trace=None, http_path_redirected_to=None,
                                                      strict_transport_security_header=None))
    assert not missing["present"] and missing["max_age"] is None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_refused_port_is_unreachable_naming_the_target():
    port = _closed_port()
    found = tls.scan("127.0.0.1", port, HOST, timeout_s=1, raise_on_unreachable=False)
    assert not found["reachable"] and found["error"].startswith(f"TLS 127.0.0.1:{port} (SNI {HOST}): ")
    assert "rejected the connection" in found["error"], found["error"]
    with pytest.raises(TargetUnreachable, match=f"TLS 127.0.0.1:{port}"):
        tls.scan("127.0.0.1", port, HOST, timeout_s=1)


def test_the_ocsp_responder_is_read_from_the_certificate(ca):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gauntlet test edge")])
    aia = x509.AuthorityInformationAccess([x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.OCSP,
                                                                  x509.UniformResourceIdentifier("http://ocsp.example.test"))])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW).not_valid_after(NOW + dt.timedelta(days=1))
            .add_extension(aia, critical=False).sign(ca.key, hashes.SHA256()))
    assert tls.ocsp_responder(cert) == "http://ocsp.example.test"
    assert tls.ocsp_responder(ca.cert) is None


@pytest.mark.parametrize(("error", "cause"), [
    ("GET https://127.0.0.1:8443/: ConnectError: [SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure", "cipher"),
    ("[SSL: NO_SHARED_CIPHER] no shared cipher", "cipher"),
    ("[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version", "protocol"),
    ("[SSL: UNSUPPORTED_PROTOCOL] unsupported protocol", "protocol"),
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired", None),
    ("ConnectError: [Errno 111] Connection refused", None),
])
def test_what_a_failed_handshake_was_about(error, cause):
    assert tls.handshake_refusal(error) == cause
