"""Cipher suites against a named policy: Mozilla's server-side TLS configurations (version 5.7).

The profiles are the JSON sslyze ships (``sslyze.mozilla_tls_profile``, what ``sslyze
--mozilla_config`` checks against), read here for their cipher suites only: protocol versions are
``edge.tls.min-version``'s, certificates the certificate checks'. Each suite the edge accepts outside
the profile comes with why (static RSA key exchange, CBC mode, SHA-1 MAC, ...), and a configuration
that accepts no AEAD suite at all is named for what it is: modern clients (OpenSSL's and Python's
defaults, which leave out SHA-1 CBC suites) find no suite in common and fail the handshake.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from sslyze.mozilla_tls_profile.tls_config_checker import MozillaTlsConfiguration, TlsConfigurationEnum

from gauntlet.environment import CipherProfile as Profile

_ENUM: dict[Profile, TlsConfigurationEnum] = {"mozilla-modern": TlsConfigurationEnum.MOZILLA_MODERN,
         "mozilla-intermediate": TlsConfigurationEnum.MOZILLA_INTERMEDIATE,
         "mozilla-old": TlsConfigurationEnum.MOZILLA_OLD}
#: (pattern in the IANA name, why the suite falls short), every match is reported.
_WHY = (
    (re.compile(r"^TLS_RSA_"), "static RSA key exchange: no forward secrecy"),
    (re.compile(r"_CBC_"), "CBC mode: MAC-then-encrypt (Lucky Thirteen, padding oracles)"),
    (re.compile(r"_SHA$"), "SHA-1 MAC"),
    (re.compile(r"_CCM"), "AES-CCM: not among the profile's AEAD suites"),
    (re.compile(r"_(ARIA|CAMELLIA|SEED)_"), "a cipher outside the profile"),
    (re.compile(r"^TLS_(DH|ECDH)_"), "static (EC)DH key exchange: no forward secrecy"),
)
_AEAD = re.compile(r"_(GCM|CHACHA20_POLY1305|CCM)")


@functools.lru_cache(maxsize=3)
def allowed(profile: Profile) -> dict[str, frozenset[str]]:
    """The IANA names of the suites the profile allows: ``tls1.2`` (and older), ``tls1.3``."""
    config = MozillaTlsConfiguration.get(_ENUM[profile])
    return {"tls1.2": frozenset(config.ciphers.iana), "tls1.3": frozenset(config.ciphersuites)}


def why_outside(name: str) -> str:
    """Why a suite falls short of a modern profile, in words; 'not in the profile' when no rule says more."""
    reasons = [why for pattern, why in _WHY if pattern.search(name)]
    return ", ".join(reasons) or "not in the profile"


def outside(ciphers: Mapping[str, list[dict]], profile: Profile) -> list[dict]:
    """Accepted suites (``{protocol: [{name, key_size}]}``, as :func:`gauntlet.edge.tls.cipher_findings` gives
    them) that the profile does not allow: ``{protocol, name, why}`` each."""
    permitted = allowed(profile)
    out = []
    for protocol, suites in ciphers.items():
        table = permitted["tls1.3" if protocol == "TLS 1.3" else "tls1.2"]
        out += [{"protocol": protocol, "name": s["name"], "why": why_outside(s["name"])}
                for s in suites if s["name"] not in table]
    return out


def without_aead(ciphers: Mapping[str, list[dict]]) -> bool:
    """Suites are accepted, and none of them is an AEAD suite (TLS 1.3's all are): a CBC-only configuration."""
    names = [s["name"] for suites in ciphers.values() for s in suites]
    return bool(names) and not any(_AEAD.search(n) for n in names)
