"""TLS at the edge, scanned with sslyze: certificate, protocol versions, cipher suites, HSTS, OCSP.

:func:`scan` connects to an address (the endpoint's URL host) and sends the hostname under test
as SNI, so a host that does not resolve here (``goproxy.gauntlet.localhost``) is still scanned
where it is served. It returns JSON-serialisable findings; judging them against an environment
is the checks' job. The ``*_findings`` helpers turn sslyze's result objects into those findings
and are what the unit tests exercise.

Trust: sslyze validates the chain with ``cryptography``'s verifier against its bundled stores
plus the endpoint's CA bundle. That verifier also enforces the CA/Browser Forum certificate
profile (e.g. "subjectAltName MUST NOT be critical when subject is nonempty"), which OpenSSL
(nginx, curl, Python) and Go's crypto/x509 (the go command) do not. When it refuses a chain, the
chain is also verified with OpenSSL (nassl, sslyze's own TLS library) against the supplied CA
file and Mozilla's store: ``trusted`` is what those clients do, and a refusal that is only the
profile's shows as ``profile_errors`` (recorded with the check), reported, not hidden.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import re
import socket
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from traceback import TracebackException
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.ocsp import OCSPResponseStatus
from cryptography.x509.oid import AuthorityInformationAccessOID
from nassl._nassl import X509
from nassl.cert_chain_verifier import CertificateChainVerificationFailed, CertificateChainVerifier
from sslyze import (
    CertificateInfoExtraArgument,
    CertificateInfoScanResult,
    CipherSuitesScanResult,
    HttpHeadersScanResult,
    ScanCommand,
    ScanCommandAttemptStatusEnum,
    ScanCommandsExtraArguments,
    Scanner,
    ServerNetworkConfiguration,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)
from sslyze.plugins.certificate_info._cert_chain_analyzer import CertificateDeploymentAnalysisResult
from sslyze.plugins.certificate_info.trust_stores.trust_store_repository import TrustStoresRepository

from gauntlet.exceptions import ConfigError, TargetUnreachable

if TYPE_CHECKING:  # chaoslib for the annotations only: the edge checks need not import it
    from chaoslib.types import Configuration, Secrets

#: (finding name, sslyze result attribute), oldest first.
PROTOCOLS: tuple[tuple[str, str], ...] = (
    ("SSL 2.0", "ssl_2_0_cipher_suites"),
    ("SSL 3.0", "ssl_3_0_cipher_suites"),
    ("TLS 1.0", "tls_1_0_cipher_suites"),
    ("TLS 1.1", "tls_1_1_cipher_suites"),
    ("TLS 1.2", "tls_1_2_cipher_suites"),
    ("TLS 1.3", "tls_1_3_cipher_suites"),
)
SCAN_COMMANDS = frozenset({
    ScanCommand.CERTIFICATE_INFO, ScanCommand.HTTP_HEADERS,
    ScanCommand.SSL_2_0_CIPHER_SUITES, ScanCommand.SSL_3_0_CIPHER_SUITES, ScanCommand.TLS_1_0_CIPHER_SUITES,
    ScanCommand.TLS_1_1_CIPHER_SUITES, ScanCommand.TLS_1_2_CIPHER_SUITES, ScanCommand.TLS_1_3_CIPHER_SUITES,
})
_WEAK = (  # (pattern in the IANA/RFC name, why), checked in order
    (re.compile(r"_anon_|^SSL_CK_.*ANON", re.I), "anonymous key exchange: the server is not authenticated"),
    (re.compile(r"_WITH_NULL_|_NULL_WITH_|_NULL$", re.I), "NULL cipher: no encryption"),
    (re.compile(r"EXPORT", re.I), "export-grade (40/56-bit)"),
    (re.compile(r"RC4", re.I), "RC4 (RFC 7465 prohibits it)"),
    (re.compile(r"3DES|_DES_|DES40|DES_CBC|DES_192|DES_64", re.I), "DES/3DES: 64-bit block (SWEET32)"),
    (re.compile(r"RC2|IDEA", re.I), "RC2/IDEA: 64-bit block, obsolete"),
    (re.compile(r"_MD5$", re.I), "MD5 message authentication"),
)


def scan(address: str, port: int, server_name: str, *, ca_file: Path | None = None, timeout_s: float = 5.0,
         raise_on_unreachable: bool = True, configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """Scan ``address:port`` with ``server_name`` as SNI (and HTTP Host, for HSTS); the findings as a dict.

    No TLS handshake at all (refused, timed out, unresolvable) raises
    :class:`TargetUnreachable` naming the target, or with ``raise_on_unreachable=False``
    returns ``{"reachable": False, "error": ...}``.
    """
    target = f"{address}:{port} (SNI {server_name})"
    if ca_file is not None and not ca_file.is_file():
        raise ConfigError(f"TLS {target}: CA bundle {ca_file} does not exist")
    try:
        ip = _resolve(address, port)
        location = ServerNetworkLocation(hostname=server_name, port=port, ip_address=ip)
    except (OSError, UnicodeError) as exc:
        return _unreachable(target, server_name, f"cannot resolve {address}: {exc}", raise_on_unreachable, exc)
    network = ServerNetworkConfiguration(tls_server_name_indication=server_name, network_timeout=max(1, math.ceil(timeout_s)),
                                         network_max_retries=1, http_user_agent="gauntlet (conformance; sslyze)")
    extra = ScanCommandsExtraArguments(certificate_info=CertificateInfoExtraArgument(custom_ca_file=ca_file) if ca_file else None)
    scanner = Scanner()
    scanner.queue_scans([ServerScanRequest(server_location=location, network_configuration=network,
                                           scan_commands=set(SCAN_COMMANDS), scan_commands_extra_arguments=extra)])
    with warnings.catch_warnings():  # sslyze's bundled trust stores hold roots with non-positive serials
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        result = next(iter(scanner.get_results()))
        if result.scan_status == ServerScanStatusEnum.ERROR_NO_CONNECTIVITY or result.scan_result is None:
            return _unreachable(target, server_name, _trace(result.connectivity_error_trace) or "no TLS connection",
                                raise_on_unreachable, None)
        attempts = result.scan_result
        findings: dict[str, Any] = {"target": f"{address}:{port}", "address": ip, "server_name": server_name,
                                    "reachable": True, "error": None, "scan_errors": {}}
        certificate = _completed(attempts.certificate_info, "certificate", findings)
        findings["certificates"] = certificate_findings(certificate, server_name, ca_file) if certificate else []
        versions = {name: _completed(getattr(attempts, attr), name, findings) for name, attr in PROTOCOLS}
        findings.update(cipher_findings(versions))
        headers = _completed(attempts.http_headers, "http headers", findings)
        findings["hsts"] = hsts_findings(headers) if headers else None
    return findings


def _unreachable(target: str, server_name: str, message: str, raise_it: bool, cause: BaseException | None) -> dict:
    text = f"TLS {target}: {message}"
    if raise_it:
        raise TargetUnreachable(text) from cause
    return {"target": target, "server_name": server_name, "reachable": False, "error": text}


def _resolve(address: str, port: int) -> str:
    infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)
    ipv4 = [info for info in infos if info[0] == socket.AF_INET]
    return str((ipv4 or infos)[0][4][0])


def _trace(trace: TracebackException | None) -> str:
    """``ServerRejectedConnection: Server rejected the connection``: the exception's last line, unqualified."""
    if trace is None:
        return ""
    lines = "".join(trace.format_exception_only()).strip().splitlines()
    line = lines[-1] if lines else ""
    name, sep, text = line.partition(": ")
    text = re.sub(r'^\S+:\d+ -> "(.*)"\.?$', r"\1", text)  # sslyze's 'host:port -> "reason".'
    return f"{name.rsplit('.', 1)[-1]}{sep}{text}" if sep else line.rsplit(".", 1)[-1]


def _completed(attempt: Any, name: str, findings: dict) -> Any:
    """The result of a scan command, or None with the reason recorded under ``scan_errors``."""
    if attempt.status == ScanCommandAttemptStatusEnum.COMPLETED:
        return attempt.result
    reason = attempt.error_reason.value if attempt.error_reason else "not run"
    findings["scan_errors"][name] = f"{reason}: {_trace(attempt.error_trace)}".rstrip(": ")
    return None


# Interpretation of sslyze's results (pure: the unit tests feed them real result objects).


def certificate_findings(result: CertificateInfoScanResult, server_name: str, ca_file: Path | None = None,
                         now: dt.datetime | None = None) -> list[dict]:
    """One finding per certificate chain the server deploys (most deploy one)."""
    now = now or dt.datetime.now(dt.UTC)
    return [deployment_findings(d, server_name, ca_file, now) for d in result.certificate_deployments]


def deployment_findings(deployment: CertificateDeploymentAnalysisResult, server_name: str,
                        ca_file: Path | None, now: dt.datetime) -> dict:
    chain = deployment.received_certificate_chain
    leaf = chain[0]
    dns_names, ips = subject_alt_names(leaf)
    strict = {p.trust_store.name: (None if p.was_validation_successful else _short(p.validation_error))
              for p in deployment.path_validation_results}
    trusted_by = sorted(name for name, error in strict.items() if error is None)
    openssl: dict[str, str | None] = {}
    if not trusted_by:
        openssl = openssl_verification(deployment.received_certificate_chain_as_pem, _stores(ca_file))
    openssl_trusted = sorted(name for name, error in openssl.items() if error is None)
    profile_errors = sorted({e for e in strict.values() if e}) if openssl_trusted else []
    return {
        "subject": leaf.subject.rfc4514_string(),
        "issuer": leaf.issuer.rfc4514_string(),
        "serial": format(leaf.serial_number, "x"),
        "not_before": leaf.not_valid_before_utc.isoformat(),
        "not_after": leaf.not_valid_after_utc.isoformat(),
        "days_to_expiry": round((leaf.not_valid_after_utc - now).total_seconds() / 86400, 1),
        "san_dns": dns_names,
        "san_ip": ips,
        "hostname_matches": host_matches(server_name, dns_names, ips),
        "chain": [c.subject.rfc4514_string() for c in chain],
        "trusted": bool(trusted_by or openssl_trusted),
        "trusted_by": trusted_by or [f"{name} (OpenSSL)" for name in openssl_trusted],
        "validation": {"sslyze": strict, "openssl": openssl},
        "profile_errors": profile_errors,
        "ocsp": ocsp_findings(deployment),
    }


def _stores(ca_file: Path | None) -> dict[str, Path]:
    with warnings.catch_warnings():  # sslyze's bundled trust stores hold roots with non-positive serials
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        stores = {"Mozilla": TrustStoresRepository.get_default().get_main_store().path}
    if ca_file is not None:
        stores = {"Supplied CA file": ca_file, **stores}
    return stores


def openssl_verification(chain_pem: list[str], stores: Mapping[str, Path]) -> dict[str, str | None]:
    """OpenSSL's X509_verify_cert of the chain against each store: store name -> None (trusted) or the error."""
    out: dict[str, str | None] = {}
    for name, path in stores.items():
        try:
            CertificateChainVerifier.from_file(Path(path)).verify([X509(pem) for pem in chain_pem])
            out[name] = None
        except CertificateChainVerificationFailed as exc:
            out[name] = exc.openssl_error_string
        except (ValueError, OSError) as exc:
            out[name] = f"cannot verify: {exc}"
    return out


def _short(error: str | None) -> str:
    """cryptography's message without the certificate dump it appends."""
    text = (error or "validation failed").split(" (encountered processing")[0]
    return text.removeprefix("validation failed: ")


def subject_alt_names(certificate: x509.Certificate) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) of the subjectAltName extension."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return list(san.get_values_for_type(x509.DNSName)), [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def host_matches(host: str, dns_names: Iterable[str], ips: Iterable[str]) -> bool:
    """RFC 6125: an exact DNS name, or a wildcard in the left-most label only; an IP only by an IP entry."""
    host = host.rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return any(ipaddress.ip_address(ip) == address for ip in ips)
    for name in dns_names:
        name = name.rstrip(".").lower()
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            label, rest = host.split(".", 1)
            if label and rest == name[2:] and rest.count(".") >= 1:
                return True
    return False


def ocsp_findings(deployment: CertificateDeploymentAnalysisResult) -> dict:
    response = deployment.ocsp_response
    found: dict[str, Any] = {"stapled": response is not None, "must_staple": deployment.leaf_certificate_has_must_staple_extension,
                             "responder": ocsp_responder(deployment.received_certificate_chain[0]),
                             "response_status": None, "certificate_status": None, "trusted": deployment.ocsp_response_is_trusted}
    if response is not None:
        found["response_status"] = response.response_status.name.lower()
        if response.response_status == OCSPResponseStatus.SUCCESSFUL:
            found["certificate_status"] = response.certificate_status.name.lower()
    return found


def ocsp_responder(certificate: x509.Certificate) -> str | None:
    """The OCSP responder the certificate names (authorityInfoAccess), where clients would ask without a staple."""
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    return next((d.access_location.value for d in access
                 if d.access_method == AuthorityInformationAccessOID.OCSP), None)


#: OpenSSL's reasons for a handshake that failed on what was negotiated, not on the certificate.
_NEGOTIATION = {
    "cipher": ("HANDSHAKE_FAILURE", "NO_SHARED_CIPHER", "NO_CIPHERS_AVAILABLE", "INSUFFICIENT_SECURITY",
               "NO_SUITABLE_KEY_SHARE"),
    "protocol": ("PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE"),
}


def handshake_refusal(error: str) -> str | None:
    """What a failed TLS handshake says, when it is not about the certificate: ``cipher`` (no suite in common)
    or ``protocol`` (no version in common); None for a certificate refusal or any other error."""
    text = error.upper()
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return None
    return next((cause for cause, reasons in _NEGOTIATION.items() if any(r in text for r in reasons)), None)


def weak_cipher_reason(name: str, key_size: int, anonymous: bool = False) -> str | None:
    """Why a cipher suite is weak (broken or below 128-bit security), or None."""
    if anonymous:
        return "anonymous key exchange: the server is not authenticated"
    for pattern, why in _WEAK:
        if pattern.search(name):
            return why
    if 0 < key_size < 128:
        return f"{key_size}-bit key"
    return None


def cipher_findings(results: Mapping[str, CipherSuitesScanResult | None]) -> dict:
    """Protocol versions accepted (None: not determined), accepted suites per version, weak ones with why."""
    protocols: dict[str, bool | None] = {}
    ciphers: dict[str, list[dict]] = {}
    weak: list[dict] = []
    for version, result in results.items():
        if result is None:
            protocols[version] = None
            continue
        accepted = [a.cipher_suite for a in result.accepted_cipher_suites]
        protocols[version] = bool(accepted)
        ciphers[version] = [{"name": c.name, "key_size": c.key_size} for c in accepted]
        for suite in accepted:
            why = weak_cipher_reason(suite.name, suite.key_size, suite.is_anonymous)
            if why:
                weak.append({"protocol": version, "name": suite.name, "why": why})
    return {"protocols": protocols, "ciphers": ciphers, "weak_ciphers": weak}


def hsts_findings(result: HttpHeadersScanResult) -> dict:
    header = result.strict_transport_security_header
    return {
        "present": header is not None,
        "max_age": header.max_age if header else None,
        "include_subdomains": header.include_subdomains if header else False,
        "preload": header.preload if header else False,
        "http_error": _trace(result.http_error_trace) or None,
        "path": result.http_path_redirected_to,
    }
