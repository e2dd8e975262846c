"""The embedded local stack, on loopback only: the GOPROXY tier and, on request, the cloud, cluster and database tiers.

Public surface used by the CLI (``gauntlet local up|down|status``)::

    install(progress)               set-up, idempotent: Debian packages, module corpus, local CA
    up(faults, progress, cloud=, cluster=, db=)
                                    start what is not running with these fault profiles; wait healthy.
                                    The cloud tier (moto) starts when ``cloud`` is true or a cloud
                                    fault profile is asked for; the cluster tier (a real Kubernetes
                                    control plane with KWOK nodes and the seed workloads) likewise
                                    with ``cluster`` or a cluster fault profile; the database tier
                                    (PostgreSQL primary and standby behind one endpoint) with ``db`` or
                                    a database fault profile.
    down()                          stop what up() started (pid files), nothing else, every tier
    status()                        components (moto among them), health, pids, edge URL, CA bundle,
                                    faults; ``cloud``: moto's endpoint, profile, resources, limits;
                                    ``cluster``: the control plane's components, kubeconfig, context
                                    (its components also among ``components``; ``kubeconfig`` on top);
                                    ``db``: the database tier's endpoint, primary, replication
    FAULTS                          fault profile name -> Fault(name, tier, description, breaks)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gauntlet.exceptions import LocalStackError
from gauntlet.local import cloud_tier, db_tier, goproxy_tier, kube_cluster
from gauntlet.local.faults import FAULTS, Fault
from gauntlet.local.install import install

__all__ = ["FAULTS", "Fault", "down", "install", "status", "up"]


def up(faults: Sequence[str] = (), progress: Callable[[str], None] = print, cdn: str = "frontdoor",
       cloud: bool = False, cluster: bool = False, db: bool = False) -> dict:
    """Start the GOPROXY tier (and the cloud tier when asked) with these fault profiles; the stack's status."""
    unknown = sorted(set(faults) - FAULTS.keys())
    if unknown:
        raise LocalStackError(f"unknown fault profile(s) {', '.join(unknown)}: known are {', '.join(FAULTS)}")
    by_tier = {tier: [f for f in faults if FAULTS[f].tier == tier] for tier in ("goproxy", "cloud", "cluster", "db")}
    goproxy_tier.up(by_tier["goproxy"], progress, cdn=cdn)
    if cloud or by_tier["cloud"]:
        cloud_tier.up(by_tier["cloud"], progress)
    if cluster or by_tier["cluster"]:
        kube_cluster.up(by_tier["cluster"], progress)
    if db or by_tier["db"]:
        db_tier.up(by_tier["db"], progress)
    return status()


def down() -> None:
    """Stop every tier's processes (by their pid files), and nothing else."""
    goproxy_tier.down()
    cloud_tier.down()
    kube_cluster.down()
    db_tier.down()


def status() -> dict:
    """The GOPROXY tier's status, with moto among the components and the cloud tier under ``cloud``."""
    stack = goproxy_tier.status()
    cloud = cloud_tier.status()
    stack["components"]["moto"] = cloud.pop("moto")
    stack["faults"] = [*stack["faults"], *cloud["faults"]]
    stack["cloud"] = cloud
    cluster = kube_cluster.status()
    stack["components"].update(cluster["components"])
    stack["faults"] = [*stack["faults"], *cluster["faults"]]
    stack["kubeconfig"] = cluster["kubeconfig"]
    stack["cluster"] = cluster
    db = db_tier.status()
    stack["components"].update(db.pop("components"))
    stack["faults"] = [*stack["faults"], *db["faults"]]
    stack["db"] = db
    return stack
