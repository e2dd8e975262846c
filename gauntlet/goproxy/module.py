"""Module paths and versions as the go command reads them.

Rules from the Go reference ("Module proxies": case encoding) and
golang.org/x/mod ``module`` and ``semver``: every upper-case letter becomes
``!`` plus its lower-case form, in paths and versions alike; ``!`` and
non-ASCII characters are not allowed in the input. A canonical version is
``vMAJOR.MINOR.PATCH[-PRERELEASE][+incompatible]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cmp_to_key

_IDENT = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
SEMVER = re.compile(
    rf"^v(?P<major>0|[1-9]\d*)(?:\.(?P<minor>0|[1-9]\d*)(?:\.(?P<patch>0|[1-9]\d*)"
    rf"(?:-(?P<pre>{_IDENT}(?:\.{_IDENT})*))?(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?)?)?$"
)
PSEUDO = re.compile(r"^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")


def escape(text: str) -> str:
    """Case-encode a module path or version: ``github.com/Azure`` -> ``github.com/!azure``."""
    if "!" in text or not text.isascii():
        raise ValueError(f"{text!r}: '!' and non-ASCII characters are not allowed in module paths and versions")
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in text)


def unescape(text: str) -> str:
    """Undo :func:`escape`; raises on a bare upper-case letter or a dangling ``!``."""
    out, bang = [], False
    for c in text:
        if bang:
            if not c.islower():
                raise ValueError(f"{text!r}: '!' must be followed by a lower-case letter")
            out.append(c.upper())
            bang = False
        elif c == "!":
            bang = True
        elif c.isupper():
            raise ValueError(f"{text!r}: upper-case letters must be escaped as '!' + lower case")
        else:
            out.append(c)
    if bang:
        raise ValueError(f"{text!r}: ends with '!'")
    return "".join(out)


def is_valid_semver(version: str) -> bool:
    return SEMVER.match(version) is not None


def is_canonical(version: str) -> bool:
    """Full ``vX.Y.Z`` form, build metadata only as ``+incompatible`` (x/mod ``module.CanonicalVersion``)."""
    m = SEMVER.match(version)
    return bool(m and m["patch"] is not None and m["build"] in (None, "incompatible"))


def is_pseudo(version: str) -> bool:
    """A pseudo-version (``v0.0.0-20191109021931-daa7c04131f5``), as x/mod ``module.IsPseudoVersion``."""
    return version.count("-") >= 2 and is_valid_semver(version) and PSEUDO.match(version) is not None


def is_prerelease(version: str) -> bool:
    m = SEMVER.match(version)
    return bool(m and m["pre"])


def _compare_pre(a: str | None, b: str | None) -> int:
    if a == b:
        return 0
    if a is None:
        return 1
    if b is None:
        return -1
    for x, y in zip(a.split("."), b.split("."), strict=False):
        if x == y:
            continue
        xn, yn = x.isdigit(), y.isdigit()
        if xn and yn:
            return (int(x) > int(y)) - (int(x) < int(y))
        if xn != yn:
            return -1 if xn else 1
        return (x > y) - (x < y)
    return (len(a.split(".")) > len(b.split("."))) - (len(a.split(".")) < len(b.split(".")))


def compare(a: str, b: str) -> int:
    """Semantic version order, as x/mod ``semver.Compare`` (build metadata ignored)."""
    ma, mb = SEMVER.match(a), SEMVER.match(b)
    if not ma or not mb:
        raise ValueError(f"not a semantic version: {a if not ma else b!r}")
    for part in ("major", "minor", "patch"):
        x, y = int(ma[part] or 0), int(mb[part] or 0)
        if x != y:
            return (x > y) - (x < y)
    return _compare_pre(ma["pre"], mb["pre"])


def go_latest(listed: Iterable[str], allowed: Callable[[str], bool] = lambda v: True,
              has_go_mod: Callable[[str], bool] = lambda v: True) -> str | None:
    """The version ``go get M@latest`` takes from ``@v/list``, or None when it would ask ``@latest`` instead.

    cmd/go/internal/modload ``queryProxy`` and ``filterVersions``: valid, non-pseudo versions in semver
    order (``proxyRepo.Versions``); those ``allowed`` refuses (retracted) skipped; ``+incompatible``
    versions ignored once the highest compatible version below them has a real go.mod; then the
    highest release, else the highest pre-release.
    """
    ordered = sorted({v for v in listed if is_valid_semver(v) and not is_pseudo(v)}, key=cmp_to_key(compare))
    releases: list[str] = []
    prereleases: list[str] = []
    last_compatible, need_incompatible = None, False
    for version in ordered:
        if not allowed(version):
            continue
        if not need_incompatible:
            if not version.endswith("+incompatible"):
                last_compatible = version
            elif last_compatible is not None:
                if has_go_mod(last_compatible):
                    break
                need_incompatible = True
        (prereleases if is_prerelease(version) else releases).append(version)
    candidates = releases or prereleases
    return candidates[-1] if candidates else None


def retracted_by(intervals: Iterable[tuple[str, str]]) -> Callable[[str], bool]:
    """A predicate: is the version inside one of the (low, high) intervals of ``retract`` directives."""
    bounds = [(low, high) for low, high in intervals if is_valid_semver(low) and is_valid_semver(high)]
    return lambda v: any(compare(low, v) <= 0 <= compare(high, v) for low, high in bounds)
