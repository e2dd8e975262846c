"""RDS: the PostgreSQL instance of each environment (seed 004, "Relational Database Service (RDS)")."""

from __future__ import annotations

import pytest

from gauntlet.cloud import ec2, rds
from gauntlet.cloud.session import configuration_for


@pytest.mark.check("aws.rds.multi-az")
def test_instance_is_multi_az(db_instance):
    """"Each environment has its own database instance running in a Multi-AZ setup.\""""
    name = db_instance["DBInstanceIdentifier"]
    assert db_instance.get("MultiAZ") is True, (
        f"RDS instance {name}: MultiAZ: expected true (a synchronous standby in a second availability zone), "
        f"found {db_instance.get('MultiAZ')!r} (only {db_instance.get('AvailabilityZone')})")


@pytest.mark.check("aws.rds.postgresql")
def test_engine_is_postgresql(db_instance):
    """"the PostgreSQL instance used as the main datastore for Artifact Hub is managed by RDS.\""""
    assert db_instance.get("Engine") == "postgres", (
        f"RDS instance {db_instance['DBInstanceIdentifier']}: Engine: expected 'postgres', found {db_instance.get('Engine')!r}")


@pytest.mark.check("aws.rds.encrypted")
def test_storage_is_encrypted(db_instance):
    """The main datastore holds user accounts and secrets: its storage is encrypted at rest."""
    assert db_instance.get("StorageEncrypted") is True, (
        f"RDS instance {db_instance['DBInstanceIdentifier']}: StorageEncrypted: expected true, "
        f"found {db_instance.get('StorageEncrypted')!r}")


@pytest.mark.check("aws.rds.backups-retained")
def test_automated_backups_are_retained(db_instance):
    """Automated backups (point-in-time recovery) are on: a retention period of at least one day."""
    days = db_instance.get("BackupRetentionPeriod", 0)
    assert days >= 1, (
        f"RDS instance {db_instance['DBInstanceIdentifier']}: BackupRetentionPeriod: expected at least 1 day, found {days} "
        "(automated backups off)")


@pytest.mark.check("aws.rds.deletion-protection")
def test_deletion_protection_is_on(db_instance):
    """The production datastore cannot be deleted by one API call."""
    assert db_instance.get("DeletionProtection") is True, (
        f"RDS instance {db_instance['DBInstanceIdentifier']}: DeletionProtection: expected true, "
        f"found {db_instance.get('DeletionProtection')!r}")


@pytest.mark.check("aws.rds.not-public")
def test_instance_is_not_publicly_accessible(db_instance):
    """"The subnet group will list only the private subnets\": the instance has no public address."""
    assert db_instance.get("PubliclyAccessible") is False, (
        f"RDS instance {db_instance['DBInstanceIdentifier']}: PubliclyAccessible: expected false, "
        f"found {db_instance.get('PubliclyAccessible')!r}")


@pytest.mark.check("aws.rds.private-subnets")
def test_subnet_group_lists_private_subnets_only(db_instance, aws_configuration):
    """"The subnet group will list only the private subnets attached to the VPC that eksctl created\":
    no subnet of the group routes 0.0.0.0/0 to an internet gateway."""
    group = db_instance.get("DBSubnetGroup") or {}
    ids = [s["SubnetIdentifier"] for s in group.get("Subnets", [])]
    assert ids, f"RDS instance {db_instance['DBInstanceIdentifier']}: DBSubnetGroup: expected private subnets, found none"
    public = [f"{s['SubnetId']} ({s.get('AvailabilityZone')}, via {s['InternetRoutes'][0].get('GatewayId')})"
              for s in ec2.describe_subnets(ids, aws_configuration) if s["InternetRoutes"]]
    assert not public, (
        f"RDS instance {db_instance['DBInstanceIdentifier']}: subnet group {group.get('DBSubnetGroupName')}: expected private "
        f"subnets only (no default route to an internet gateway), found public {public}")


@pytest.mark.check("aws.rds.no-internet-ingress")
def test_security_groups_admit_no_one_from_the_internet(db_instance, aws_configuration):
    """"The security group will contain an inbound rule allowing traffic to the PostgreSQL service port from
    the EKS cluster nodes\": no inbound rule opens the port to 0.0.0.0/0 or ::/0."""
    port = (db_instance.get("Endpoint") or {}).get("Port") or 5432
    ids = [g["VpcSecurityGroupId"] for g in db_instance.get("VpcSecurityGroups", []) if g.get("Status", "active") == "active"]
    open_rules = {g["GroupId"]: ec2.open_to_anywhere(g, port) for g in ec2.describe_security_groups(ids, aws_configuration)} if ids else {}
    open_rules = {k: v for k, v in open_rules.items() if v}
    assert not open_rules, (
        f"RDS instance {db_instance['DBInstanceIdentifier']}: inbound to port {port}: expected the EKS nodes only, "
        f"found open to the internet in {open_rules}")


@pytest.mark.check("aws.rds.instance-of-its-own")
def test_each_environment_has_its_own_instance(db_instance, separate_environments):
    """"Each environment has its own database instance": no environment named in aws.separate_from uses
    this instance (by identifier, ARN or endpoint)."""
    mine = db_instance["DBInstanceIdentifier"]
    for other in separate_environments:
        assert mine not in other.aws.rds_instances, (
            f"RDS instance {mine}: expected only this environment to use it, found it also in {other.name}'s aws.rds_instances")
        for theirs in other.aws.rds_instances:
            found = rds.describe_db_instance(theirs, configuration_for(other.aws))
            assert found.get("DBInstanceArn") != db_instance.get("DBInstanceArn"), (
                f"RDS instance {mine}: DBInstanceArn: expected another instance than {other.name}'s {theirs}, "
                f"found the same ({db_instance.get('DBInstanceArn')})")
            address = (db_instance.get("Endpoint") or {}).get("Address")
            assert (found.get("Endpoint") or {}).get("Address") != address, (
                f"RDS instance {mine}: Endpoint.Address: expected its own, found {address}, also {other.name}'s {theirs}")


@pytest.mark.check("aws.rds.endpoint-is-the-databases")
def test_the_instance_is_the_database_the_clients_use(db_instance, environment):
    """The RDS instance is the environment's own main datastore: its endpoint is the ``database`` endpoint the
    application (and the failover experiment's client probes) connect to. moto derives Endpoint.Address from
    the identifier and lets only the port be set, so against it the port alone is compared."""
    db = environment.database
    if db is None:
        pytest.skip(f"environment {environment.name} names no database endpoint (database section)")
    endpoint = db_instance.get("Endpoint") or {}
    name = db_instance["DBInstanceIdentifier"]
    assert endpoint.get("Port") == db.port, (
        f"RDS instance {name}: Endpoint.Port: expected {db.port} (database.port), found {endpoint.get('Port')!r}")
    if environment.aws is not None and environment.aws.emulator != "moto":
        assert endpoint.get("Address") == db.host, (
            f"RDS instance {name}: Endpoint.Address: expected {db.host} (database.host), found {endpoint.get('Address')!r}")
