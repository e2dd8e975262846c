"""What the Artifact Hub browse/search load user asks for. Pure Python.

Paths of the hub's own API (``/api/v1``): a search is
``/packages/search?ts_query_web=TERM&...``, whose ``packages[]`` name their
repository's kind (a number) and name; a package's detail is
``/packages/KIND-NAME/REPOSITORY/PACKAGE``. Kind numbers and names as the hub
defines them (``internal/hub/repo.go``: ``RepositoryKind``, ``GetKindName``).
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

KIND_NAMES = (
    "helm", "falco", "opa", "olm", "tbaction", "krew", "helm-plugin", "tekton-task", "keda-scaler", "coredns",
    "keptn", "tekton-pipeline", "container", "kubewarden", "gatekeeper", "kyverno", "knative-client-plugin",
    "backstage", "argo-template", "kubearmor", "kcl", "headlamp", "inspektor-gadget", "tekton-stepaction",
    "meshery", "opencost", "radius",
)


def search_page(term: str) -> str:
    """The search page a browser loads (HTML, served by the hub's index)."""
    return "/packages/search?" + urlencode({"ts_query_web": term, "sort": "relevance", "page": 1})


def search_api(term: str, limit: int = 20) -> str:
    """The API call that page makes."""
    return "/api/v1/packages/search?" + urlencode(
        {"ts_query_web": term, "sort": "relevance", "facets": "true", "limit": limit, "offset": 0})


def package_paths(body: bytes) -> list[str]:
    """Detail API paths of the packages a search answer lists (unknown kinds skipped)."""
    try:
        packages = json.loads(body).get("packages") or []
    except (ValueError, AttributeError):
        return []
    out = []
    for package in packages:
        try:
            kind = KIND_NAMES[int(package["repository"]["kind"])]
            out.append(f"/api/v1/packages/{kind}/{quote(package['repository']['name'])}/{quote(package['name'])}")
        except (KeyError, TypeError, ValueError, IndexError):
            continue
    return out


def ok(status: int, body: bytes) -> str | None:
    return None if 200 <= status < 300 else f"HTTP {status}"


def search_ok(status: int, body: bytes) -> str | None:
    if not 200 <= status < 300:
        return f"HTTP {status}"
    try:
        data = json.loads(body)
    except ValueError:
        return "search answer is not JSON"
    return None if isinstance(data, dict) and isinstance(data.get("packages"), list) else "search answer has no packages list"
