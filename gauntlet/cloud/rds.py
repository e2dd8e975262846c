"""RDS probes: the database instances the environment names."""

from __future__ import annotations

from chaoslib.types import Configuration, Secrets

from gauntlet.cloud.session import call, client, jsonable
from gauntlet.exceptions import ResourceMissing

#: What a local run of a failover can and cannot show (moto 5.2).
MOTO_FAILOVER = ("moto accepts reboot_db_instance(ForceFailover=True) and ignores ForceFailover: no standby is promoted, "
                 "the availability zone and the endpoint stay the same and there is no outage to measure; a local run "
                 "shows the experiment's calls and tolerances work, not that the database fails over")


def describe_db_instance(db_instance_identifier: str, configuration: Configuration | None = None,
                         secrets: Secrets | None = None) -> dict:
    """The instance as ``DescribeDBInstances`` answers it (``MultiAZ``, ``Engine``, ``StorageEncrypted``, ...)."""
    resource = f"RDS instance {db_instance_identifier!r}"
    answer = call(client("rds", configuration, secrets), "describe_db_instances", resource=resource,
                  DBInstanceIdentifier=db_instance_identifier)
    instances = answer.get("DBInstances") or []
    if not instances:
        raise ResourceMissing(f"{resource}: DescribeDBInstances answered no instance")
    return jsonable(instances[0])
