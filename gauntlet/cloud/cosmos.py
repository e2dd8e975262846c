"""Azure Cosmos DB probe (Athens' storage): the account's regions and failover policy.

Needs ``azure-mgmt-cosmosdb`` and ``azure-identity`` and Azure credentials
(``DefaultAzureCredential``: environment, workload identity, Azure CLI login). Neither
is part of gauntlet's dependencies; without them the question is not asked and the
answer is :class:`NotChecked` with the reason.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from chaoslib.types import Configuration, Secrets

from gauntlet.cloud.errors import CloudCallFailed
from gauntlet.exceptions import NotChecked, ResourceMissing

MISSING_SDK = ("the Azure SDK (azure-mgmt-cosmosdb, azure-identity) is not installed here and no Azure credentials are "
               "configured: the Cosmos DB account was not read")


def sdk_available() -> bool:
    try:
        return all(importlib.util.find_spec(name) is not None for name in ("azure.mgmt.cosmosdb", "azure.identity"))
    except ModuleNotFoundError:  # no "azure" package at all
        return False


def describe_cosmos_account(subscription: str | None, resource_group: str | None, account: str,
                            configuration: Configuration | None = None, secrets: Secrets | None = None, *,
                            management_client: Callable[[str], Any] | None = None) -> dict:
    """The account's write and read regions, failover priorities and ``enable_automatic_failover``.

    ``management_client(subscription)`` returns a ``CosmosDBManagementClient``; by default one
    built with ``DefaultAzureCredential``.
    """
    if not subscription or not resource_group:
        raise NotChecked(f"Cosmos DB account {account!r}: the environment names no Azure subscription and resource "
                         "group (azure.subscription, azure.resource_group)")
    if management_client is None:
        if not sdk_available():
            raise NotChecked(MISSING_SDK)
        management_client = _default_client
    try:
        found = management_client(subscription).database_accounts.get(resource_group, account)
    except Exception as exc:  # the Azure SDK's errors, translated at this boundary
        raise _translate(exc, account) from None
    return {
        "name": found.name,
        "enable_automatic_failover": bool(found.enable_automatic_failover),
        "enable_multiple_write_locations": bool(getattr(found, "enable_multiple_write_locations", False)),
        "write_locations": [loc.location_name for loc in found.write_locations or []],
        "read_locations": [loc.location_name for loc in found.read_locations or []],
        "failover_policies": [{"location": p.location_name, "priority": p.failover_priority} for p in found.failover_policies or []],
    }


def _default_client(subscription: str) -> Any:  # pragma: no cover - needs the Azure SDK and credentials
    from azure.identity import DefaultAzureCredential
    from azure.mgmt.cosmosdb import CosmosDBManagementClient

    return CosmosDBManagementClient(DefaultAzureCredential(), subscription)


def _translate(exc: Exception, account: str) -> Exception:
    kind = type(exc).__name__
    where = f"Cosmos DB account {account!r}"
    if kind in ("ClientAuthenticationError", "CredentialUnavailableError"):
        return NotChecked(f"{where}: no usable Azure credentials ({exc})")
    if kind == "ResourceNotFoundError":
        return ResourceMissing(f"{where}: not found ({exc})")
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return NotChecked(f"{where}: access denied ({exc}); grant Microsoft.DocumentDB/databaseAccounts/read")
    if status == 429:
        return NotChecked(f"{where}: throttled ({exc})")
    return CloudCallFailed(f"{where}: {kind}: {exc}")
