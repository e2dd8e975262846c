"""The API server's OpenAPI v3 (``GET /openapi/v3``): the group versions it serves and their schemas.

Read once per process and group version: manifests are then validated offline against them
(:mod:`gauntlet.kubernetes.schema`), never sent to the server.
"""

from __future__ import annotations

import functools

from chaoslib.types import Configuration, Secrets

from gauntlet.kubernetes.client import Cluster, call, cluster

__all__ = ["group_versions", "schemas_of"]


def _get(target: Cluster, path: str) -> dict:
    return call(target, f"GET {path}", target.api.call_api, path, "GET", auth_settings=["BearerToken"],
                _return_http_data_only=True)


@functools.lru_cache(maxsize=8)
def _index(target: Cluster) -> dict[str, str]:
    return {path: (entry or {}).get("serverRelativeURL", f"/openapi/v3/{path}")
            for path, entry in (_get(target, "/openapi/v3").get("paths") or {}).items()}


@functools.lru_cache(maxsize=64)
def _document(target: Cluster, url: str) -> dict:
    return (_get(target, url).get("components") or {}).get("schemas") or {}


def group_versions(configuration: Configuration | None = None, secrets: Secrets | None = None) -> list[str]:
    """The OpenAPI paths of the group versions the cluster serves: ``api/v1``, ``apis/apps/v1``, ..."""
    return sorted(p for p in _index(cluster(configuration, secrets)) if p == "api/v1" or p.count("/") == 2)


def schemas_of(path: str, configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """``components.schemas`` of one group version's document (``apis/apps/v1``); {} when it is not served."""
    target = cluster(configuration, secrets)
    url = _index(target).get(path)
    return _document(target, url) if url else {}
