"""The Cosmos DB probe: not checked without the Azure SDK or identifiers; data and errors through a fake client."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gauntlet.cloud import cosmos
from gauntlet.exceptions import NotChecked, ResourceMissing


def _account(*regions: str, failover: bool = True) -> SimpleNamespace:
    where = [SimpleNamespace(location_name=r) for r in regions]
    return SimpleNamespace(name="athens-cosmos", enable_automatic_failover=failover, enable_multiple_write_locations=False,
                           write_locations=where[:1], read_locations=where,
                           failover_policies=[SimpleNamespace(location_name=r, failover_priority=i) for i, r in enumerate(regions)])


def _client(answer):
    def get(group, name):
        if isinstance(answer, Exception):
            raise answer
        return answer
    return lambda subscription: SimpleNamespace(database_accounts=SimpleNamespace(get=get))


def test_account_regions_and_failover():
    found = cosmos.describe_cosmos_account("sub", "rg", "athens-cosmos", management_client=_client(_account("West US 2", "East US")))
    assert found == {"name": "athens-cosmos", "enable_automatic_failover": True, "enable_multiple_write_locations": False,
                     "write_locations": ["West US 2"], "read_locations": ["West US 2", "East US"],
                     "failover_policies": [{"location": "West US 2", "priority": 0}, {"location": "East US", "priority": 1}]}


def test_without_subscription_it_is_not_checked():
    with pytest.raises(NotChecked, match="names no Azure subscription"):
        cosmos.describe_cosmos_account(None, "rg", "athens-cosmos")


def test_without_the_azure_sdk_it_is_not_checked():
    if cosmos.sdk_available():
        pytest.skip("the Azure SDK is installed here")
    with pytest.raises(NotChecked, match="Azure SDK .* is not installed here and no Azure credentials"):
        cosmos.describe_cosmos_account("sub", "rg", "athens-cosmos")


@pytest.mark.parametrize(("error", "expected", "text"), [
    (type("ClientAuthenticationError", (Exception,), {})("no token"), NotChecked, "no usable Azure credentials"),
    (type("ResourceNotFoundError", (Exception,), {})("gone"), ResourceMissing, "not found"),
    (type("HttpResponseError", (Exception,), {"status_code": 403})("forbidden"), NotChecked, "access denied"),
    (type("HttpResponseError", (Exception,), {"status_code": 429})("slow down"), NotChecked, "throttled"),
])
def test_azure_errors_are_translated(error, expected, text):
    with pytest.raises(expected, match=text):
        cosmos.describe_cosmos_account("sub", "rg", "athens-cosmos", management_client=_client(error))
