"""The local CA and the edge's certificates, made with trustme at set-up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509

from gauntlet.paths import cache_dir

#: Names the edge certificate is valid for.
EDGE_NAMES = ("localhost", "127.0.0.1", "goproxy.gauntlet.localhost", "athens.gauntlet.localhost")
_VALIDITY = dt.timedelta(days=397)  # the CA/Browser Forum's ceiling for a public leaf
_RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class EdgeCert:
    """A certificate chain file and its key file, as nginx wants them."""

    chain: Path
    key: Path


def tls_dir() -> Path:
    return cache_dir() / "goproxy" / "tls"


def ca_bundle() -> Path:
    """The local CA certificate (PEM) that clients must trust: ``SSL_CERT_FILE`` for go."""
    return tls_dir() / "ca.pem"


def edge_cert(expired: bool = False) -> EdgeCert:
    """The edge certificate, or one that expired 30 days ago (fault ``edge-expired-cert``)."""
    name = "edge-expired" if expired else "edge"
    return EdgeCert(tls_dir() / f"{name}.pem", tls_dir() / f"{name}.key")


def _load_ca() -> trustme.CA:
    ca_key = tls_dir() / "ca.key"
    if ca_bundle().is_file() and ca_key.is_file():
        return trustme.CA.from_pem(ca_bundle().read_bytes(), ca_key.read_bytes())
    ca = trustme.CA(organization_name="gauntlet local CA")
    tls_dir().mkdir(parents=True, exist_ok=True)
    ca.cert_pem.write_to_path(str(ca_bundle()))
    ca.private_key_pem.write_to_path(str(ca_key))
    ca_key.chmod(0o600)
    return ca


def _needs_renewal(cert: EdgeCert, now: dt.datetime) -> bool:
    if not (cert.chain.is_file() and cert.key.is_file()):
        return True
    leaf = x509.load_pem_x509_certificate(cert.chain.read_bytes())
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = {str(v) for kind in (x509.DNSName, x509.IPAddress) for v in sans.get_values_for_type(kind)}
    return leaf.not_valid_after_utc - now < _RENEW_BEFORE or not set(EDGE_NAMES) <= names


def ensure() -> Path:
    """Create the CA and the edge certificates unless present and current; returns the CA bundle."""
    ca = _load_ca()
    now = dt.datetime.now(dt.UTC)
    good, expired = edge_cert(), edge_cert(expired=True)
    if _needs_renewal(good, now):
        _issue(ca, good, now - dt.timedelta(days=1), now + _VALIDITY)
    if not (expired.chain.is_file() and expired.key.is_file()):
        _issue(ca, expired, now - _VALIDITY, now - dt.timedelta(days=30))
    return ca_bundle()


def _issue(ca: trustme.CA, cert: EdgeCert, not_before: dt.datetime, not_after: dt.datetime) -> None:
    leaf = ca.issue_cert(*EDGE_NAMES, not_before=not_before, not_after=not_after)
    cert.chain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(cert.key))
    cert.key.chmod(0o600)
