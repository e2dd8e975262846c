"""Keeps secrets out of reports and logs.

Everything free-text that reaches a report passes through :func:`redact`:
credentials in URLs, authorization headers, AWS keys, bearer tokens, and the
values of environment variables whose names say they hold a secret.
"""

from __future__ import annotations

import os
import re

MASK = "***"
_SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|APIKEY|API_KEY|ACCESS_KEY|SESSION_KEY|HASHKEY|AUTHKEY)", re.I)
_PATTERNS = (
    (re.compile(r"(?P<keep>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+(?=@)", re.I), r"\g<keep>" + MASK),
    (re.compile(r"(?P<keep>\b(?:authorization|proxy-authorization|x-api-key|cookie|set-cookie)\s*[:=]\s*)[^\r\n,}\"']+", re.I), r"\g<keep>" + MASK),
    (re.compile(r"(?P<keep>\bbearer\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\g<keep>" + MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), MASK),
    (re.compile(r"(?P<keep>\b(?:aws_secret_access_key|secret_?key|password|passwd|token|client_?secret)\b[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+", re.I), r"\g<keep>" + MASK),
)


def _secret_values() -> list[str]:
    values = [v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 6]
    return sorted(set(values), key=len, reverse=True)


def redact(text: str) -> str:
    """Mask anything in ``text`` that looks like, or is, a secret."""
    for value in _secret_values():
        text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
