"""Announces a gate's verdict to a Slack-compatible webhook (``{"text": ...}``)."""

from __future__ import annotations

import os
import re

import httpx

from gauntlet import redact
from gauntlet.environment import Notify

OUTCOME = {0: "pass", 1: "fail", 3: "not-checked"}


def webhook_url(notify: Notify) -> str:
    """The URL, with ``${VAR}`` taken from the environment (webhook URLs are secrets: it is masked from now on)."""
    url = re.sub(r"\$\{(\w+)\}", lambda m: os.environ.get(m.group(1), ""), notify.webhook_url)
    redact.register(url)
    return url


def message(document: dict, code: int) -> dict:
    summary = document["summary"]
    failing = [c["id"] for c in document["claims"] if c["gates"] and c["verdict"] != "verified"]
    text = (f"gauntlet gate {document['environment']}: {OUTCOME.get(code, 'error').upper()} (exit {code}) · "
            f"{summary['verified']} verified, {summary['violated']} violated, {summary['not-checked']} not checked")
    if failing:
        text += "\nGating claims not verified: " + ", ".join(failing[:10]) + (" …" if len(failing) > 10 else "")
    if document.get("regressions"):
        text += "\nRegressions: " + "; ".join(document["regressions"][:5])
    text += f"\nReport: {document['report']}/index.html"
    return {"text": text}


def announce(notify: Notify, document: dict, code: int) -> str:
    """POST the verdict when the outcome is one the environment asks for; returns what happened, for the log."""
    outcome = OUTCOME.get(code, "fail")
    if outcome not in notify.on:
        return f"not announced ({outcome} is not in notify.on)"
    url = webhook_url(notify)
    if not url:
        return "not announced: the webhook URL's variable is not set"
    try:
        response = httpx.post(url, json=message(document, code), timeout=10)
    except httpx.HTTPError as exc:
        return f"announcing failed: {type(exc).__name__}"
    return f"announced ({response.status_code})"
