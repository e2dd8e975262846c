"""ECR probes: a private repository, its policy and its image tags."""

from __future__ import annotations

import json

from chaoslib.types import Configuration, Secrets

from gauntlet.cloud.errors import CloudCallFailed
from gauntlet.cloud.session import call, client, jsonable, pages
from gauntlet.exceptions import ResourceMissing

#: Actions that let the holder pull an image.
PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:*", "*")


def describe_repository(name: str, configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    ecr = client("ecr", configuration, secrets)
    found = call(ecr, "describe_repositories", resource=f"repository {name!r}", repositoryNames=[name]).get("repositories") or []
    return jsonable(found[0]) if found else {}


def repository_policy(name: str, configuration: Configuration | None = None,
                      secrets: Secrets | None = None) -> dict | None:
    """The repository's policy document, or None when it has none (only the account's own identities may pull)."""
    ecr = client("ecr", configuration, secrets)
    try:
        text = call(ecr, "get_repository_policy", resource=f"policy of repository {name!r}", repositoryName=name)["policyText"]
    except ResourceMissing as exc:
        if exc.code == "RepositoryPolicyNotFoundException":
            return None
        raise
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CloudCallFailed(f"ecr:GetRepositoryPolicy {name!r}: the policy is not JSON ({exc})") from None


def public_statements(policy: dict | None) -> list[dict]:
    """The statements that let anyone (``Principal: "*"``) pull, without a condition narrowing it."""
    if not policy:
        return []
    statements = policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    out = []
    for statement in statements:
        principal = statement.get("Principal")
        anyone = principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))
        actions = _as_list(statement.get("Action"))
        if statement.get("Effect") == "Allow" and anyone and not statement.get("Condition") and set(actions) & set(PULL_ACTIONS):
            out.append(statement)
    return out


def image_tags(name: str, configuration: Configuration | None = None, secrets: Secrets | None = None) -> list[str]:
    ecr = client("ecr", configuration, secrets)
    images = pages(ecr, "describe_images", "imageDetails", resource=f"images of repository {name!r}", repositoryName=name)
    return sorted({tag for image in images for tag in image.get("imageTags") or []})


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value] if value is not None else []
