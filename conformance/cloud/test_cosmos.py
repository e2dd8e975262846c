"""Azure Cosmos DB behind Athens (seed 000: "does replication across Azure cloud regions")."""

from __future__ import annotations

import pytest

from gauntlet.cloud import cosmos


@pytest.mark.check("azure.cosmos.multi-region-failover")
def test_cosmos_account_replicates_across_regions_with_failover(environment):
    """"It supports the MongoDB API and does replication across Azure cloud regions very nicely, with no
    intervention from the operator\": more than one region, and automatic failover on."""
    azure = environment.azure
    if azure is None or not azure.cosmos_account:
        pytest.skip(f"environment {environment.name} names no Cosmos DB account (azure.cosmos_account)")
    account = cosmos.describe_cosmos_account(azure.subscription, azure.resource_group, azure.cosmos_account)
    regions = sorted(set(account["read_locations"]) | set(account["write_locations"]))
    assert len(regions) >= 2, f"Cosmos DB account {account['name']}: locations: expected at least 2 regions, found {regions}"
    assert account["enable_automatic_failover"], (
        f"Cosmos DB account {account['name']}: enableAutomaticFailover: expected true, found false")
