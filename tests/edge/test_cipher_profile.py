"""Cipher suites against Mozilla's profiles (the JSON sslyze ships), as the scan reports accepted suites."""

from __future__ import annotations

import pytest

from gauntlet.edge import cipher_profile

GCM = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
CBC_SHA1 = "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
STATIC_RSA = "TLS_RSA_WITH_AES_128_GCM_SHA256"


def test_the_profiles_are_mozillas():
    intermediate = cipher_profile.allowed("mozilla-intermediate")
    assert GCM in intermediate["tls1.2"] and "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" in intermediate["tls1.2"]
    assert CBC_SHA1 not in intermediate["tls1.2"] and STATIC_RSA not in intermediate["tls1.2"]
    assert intermediate["tls1.3"] == {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
    assert cipher_profile.allowed("mozilla-modern")["tls1.2"] == frozenset()
    assert CBC_SHA1 in cipher_profile.allowed("mozilla-old")["tls1.2"]


@pytest.mark.parametrize(("name", "why"), [
    ("TLS_RSA_WITH_AES_128_CBC_SHA", "static RSA key exchange: no forward secrecy, CBC mode: MAC-then-encrypt "
                                     "(Lucky Thirteen, padding oracles), SHA-1 MAC"),
    (STATIC_RSA, "static RSA key exchange: no forward secrecy"),
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "CBC mode: MAC-then-encrypt (Lucky Thirteen, padding oracles)"),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "AES-CCM: not among the profile's AEAD suites"),
    ("TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256", "a cipher outside the profile"),
    ("TLS_ECDHE_RSA_WITH_NEW_THING", "not in the profile"),
])
def test_why_a_suite_falls_short(name, why):
    assert cipher_profile.why_outside(name) == why


def test_suites_outside_the_profile_per_protocol():
    ciphers = {"TLS 1.2": [{"name": GCM, "key_size": 128}, {"name": CBC_SHA1, "key_size": 128},
                           {"name": STATIC_RSA, "key_size": 128}],
               "TLS 1.3": [{"name": "TLS_AES_128_GCM_SHA256", "key_size": 128}]}
    assert [s["name"] for s in cipher_profile.outside(ciphers, "mozilla-intermediate")] == [CBC_SHA1, STATIC_RSA]
    assert [s["name"] for s in cipher_profile.outside(ciphers, "mozilla-modern")] == [GCM, CBC_SHA1, STATIC_RSA]
    assert cipher_profile.outside(ciphers, "mozilla-old") == []
    assert not cipher_profile.without_aead(ciphers)


def test_a_cbc_only_configuration_has_no_aead_suite():
    assert cipher_profile.without_aead({"TLS 1.2": [{"name": CBC_SHA1, "key_size": 128},
                                                    {"name": "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "key_size": 256}],
                                        "TLS 1.3": []})
    assert not cipher_profile.without_aead({"TLS 1.2": [], "TLS 1.3": []}), "nothing accepted is another check's"
