"""Fault profiles of the local stack: named misconfigurations of the same real components.

A GOPROXY-tier profile is rendered into the nginx/HAProxy configurations
(``fixtures/local/*.j2``, look for ``faults``); a database-tier profile into PostgreSQL's and the
endpoint's (and into the pool the client probes hold, :mod:`gauntlet.local.db_tier`); a cloud-tier profile changes what
:mod:`gauntlet.local.cloud_tier` provisions in moto; a cluster-tier profile changes the seed
manifests before they are applied (:data:`gauntlet.local.kube_workloads.RENDERERS`). Each names
the check kinds it breaks (:mod:`gauntlet.catalogue`, groups allowed), at a load profile or a
workload where it breaks them only there (``load.error-rate@failover``,
``kubernetes.pdb.*@athens/athens``), so every check of those kinds, and every claim naming them,
is shown failing on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gauntlet.catalogue import catalogue, matches
from gauntlet.environment import Environment


@dataclass(frozen=True)
class Fault:
    """A named misconfiguration and the check kinds it breaks."""

    name: str
    tier: str
    description: str
    breaks: tuple[str, ...]

    def claims_in(self, env: Environment) -> set[str]:
        """The claims of ``env`` this fault must turn violated: those naming a kind it breaks, at the load profile
        or about the workload it breaks it at."""
        return {c.id for c in env.claims
                if any(_overlap(p, broken, c.workloads) for p in c.evidence for broken in self.breaks)}


def _overlap(pattern: str, broken: str, workloads: tuple[str, ...]) -> bool:
    """Some kind of the catalogue is named by both patterns, at ``broken``'s profile or workload if it names one."""
    at = broken.partition("@")[2]
    if at and (at not in workloads if "/" in at else pattern.partition("@")[2] != at):
        return False
    return any(matches(broken, k.id) for k in catalogue().matching(pattern))


def _goproxy(name: str, description: str, *breaks: str) -> Fault:
    return Fault(name, "goproxy", description, breaks)


def _cloud(name: str, description: str, *breaks: str) -> Fault:
    return Fault(name, "cloud", description, breaks)


def _cluster(name: str, description: str, *breaks: str) -> Fault:
    return Fault(name, "cluster", description, breaks)


def _db(name: str, description: str, *breaks: str) -> Fault:
    return Fault(name, "db", description, breaks)


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        _goproxy(
            "edge-caches-list-forever",
            "the edge overrides /@v/list and /@latest with 'Cache-Control: public, max-age=31536000' "
            "and keeps them a year, so new versions never show through it",
            "edge.cache-headers.mutable-short-lived",
            "edge.cdn.mutable-fresh-within-ttl",
        ),
        _goproxy(
            "edge-ignores-origin-cache-control",
            "the edge ignores the origin's Cache-Control and Expires and caches every answer, "
            "errors included, for a flat day (Front Door 'override always')",
            "edge.cdn.error-ttl-bounded",
            "edge.cache-headers.mutable-short-lived",
            "edge.cdn.mutable-fresh-within-ttl",
        ),
        _goproxy(
            "edge-expired-cert",
            "the edge serves a certificate of the local CA that expired 30 days ago",
            "edge.tls.*",
            "edge.https.served",
        ),
        _goproxy(
            "edge-legacy-tls",
            "the edge also accepts TLS 1.0 and 1.1 with OpenSSL security level 0 ciphers",
            "edge.tls.min-version",
            "edge.tls.no-weak-ciphers",
            "edge.tls.cipher-profile",
        ),
        _goproxy(
            "edge-cbc-only",
            "the edge speaks TLS 1.2 only with CBC-SHA1 suites (ECDHE-ECDSA-AES128-SHA, ECDHE-ECDSA-AES256-SHA): no "
            "AEAD suite, so clients offering OpenSSL's defaults cannot connect, while the go command still can",
            "edge.tls.cipher-profile",
            "edge.https.served",
        ),
        _goproxy(
            "edge-no-http2",
            "the edge's HTTPS listener lacks http2: it answers HTTP/1.1 only, ALPN selects no h2",
            "edge.https.http2",
        ),
        _goproxy(
            "edge-via-banner",
            "the edge adds 'Via: 1.1 edge (nginx/1.22.1)' to every answer, naming its software and version",
            "edge.errors.no-via-software",
        ),
        _goproxy(
            "edge-strips-case-escapes",
            "a URL 'normalisation' rule at the edge drops the '!' of case-encoded paths, so "
            "github.com/!burnt!sushi/toml reaches the origin as github.com/burntsushi/toml and 404s",
            "goproxy.*",
            "latency.goproxy.within-budget",
            "goproxy.case.escaped-only",
        ),
        _goproxy(
            "replica-500",
            "replica-2 starts with its storage path misspelt and a catch-all try_files: every protocol "
            "path ends in an internal redirect cycle (500) while /healthz, which the load balancer checks, stays 200",
            "goproxy.*",
            "latency.goproxy.within-budget",
            "goproxy.not-found.malformed-path",
            "goproxy.mod.declares-module",
        ),
        _goproxy(
            "replica-git-on-hot-path",
            "both replicas run a 'git fetch' before answering any protocol request from storage (800 ms, "
            "fixtures/local/replica.js), as an Athens with git on its serving path; /healthz stays fast",
            "latency.goproxy.within-budget",
            "load.p95@smoke",
        ),
        _goproxy(
            "origin-404-as-403",
            "the replicas answer 403 instead of 404 for modules and versions they do not have (like a storage "
            "bucket without list permission), so the go command stops instead of falling back to the next proxy",
            "goproxy.not-found.*",
            "goproxy.not-found.unknown-module",
            "goproxy.not-found.unknown-version",
            "goproxy.latest.*",
            "goproxy.sumdb.unknown-not-an-error",
            "goproxy.case.distinct-modules",
        ),
        _goproxy(
            "origin-redirect-target-broken",
            "both replicas answer every .zip with a 302 to the blob storage (https://127.0.0.1:3040), as Athens' "
            "redirect download mode does: replica-1's redirects are right, replica-2's name a container the storage "
            "does not have (404 there)",
            "goproxy.redirect.followed",
            "goproxy.zip.valid",
            "goproxy.integrity.zip-hash",
            "goproxy.consistency.same-bytes",
            "goproxy.case.distinct-modules",
            "goproxy.go-client.download-verifies",
        ),
        _goproxy(
            "replica-flaky-not-found",
            "both replicas answer about one request in 25 for a module or version they do not have with 500 "
            "instead of 404 (nginx split_clients on the request id), as Athens' race under concurrent requests did",
            "goproxy.not-found.*",
            "goproxy.not-found.stable",
            "goproxy.latest.*",
            "goproxy.sumdb.unknown-not-an-error",
            "goproxy.case.distinct-modules",
        ),
        _goproxy(
            "replica-info-time-no-zone",
            "the replicas write the Time of .info and @latest without its zone ('2023-06-08T11:20:31'): Python "
            "reads it, Go's RFC 3339 parser refuses it and the go command with it",
            "goproxy.info.time-rfc3339",
            "goproxy.go-client.download-verifies",
        ),
        _goproxy(
            "replica-info-drops-incompatible",
            "the replicas answer .info of a +incompatible version with the version without '+incompatible' "
            "(what semver.Canonical makes of it), which the go command refuses as another version",
            "goproxy.info.version-matches",
            "goproxy.latest.matches-list",
            "goproxy.latest.optional-or-listed",
            "goproxy.go-client.download-verifies",
        ),
        _goproxy(
            "replica-mod-crlf",
            "the replicas serve go.mod files with CRLF line endings (storage filled from a checkout with "
            "core.autocrlf) instead of the original bytes: the /go.mod hashes no longer match go.sum",
            "goproxy.integrity.mod-hash",
            "goproxy.zip.valid",
            "goproxy.go-client.download-verifies",
        ),
        _goproxy(
            "origin-lists-stored-versions",
            "the replicas build @v/list from every version their storage holds, pseudo-versions included "
            "(njs body filter over the storage folder)",
            "goproxy.list.canonical-versions",
        ),
        _goproxy(
            "replica-2-lists-unstored-version",
            "replica-2's @v/list also names the next patch version of each module, which no storage holds (an "
            "upstream list passed through while the download is pending, Athens' async mode); replica-1's does not",
            "goproxy.list.versions-resolve",
            "goproxy.list.stable",
            "goproxy.latest.matches-list",
        ),
        _goproxy(
            "replica-2-no-latest",
            "replica-2 runs a build without @latest (404, allowed on its own) while replica-1 serves it: behind "
            "the load balancer @latest alternates between 200 and 404",
            "goproxy.latest.stable",
        ),
        _goproxy(
            "origin-html-errors",
            "the replicas answer what they do not have with nginx's built-in HTML 404 page instead of a text/plain "
            "message, so the go command shows its users nothing of it",
            "goproxy.errors.text-plain",
        ),
        _goproxy(
            "edge-cache-key-folds-case",
            "a cache-key rule at the edge drops the '!' case escapes, so github.com/burntsushi/toml is answered "
            "from the cache entry of github.com/!burnt!sushi/toml, another module",
            "goproxy.case.distinct-modules",
        ),
        _goproxy(
            "edge-no-sumdb-route",
            "the edge's routes cover module paths only: /sumdb/ answers 404 at the edge, so the go command stops "
            "using the proxy for the checksum database and goes to it directly",
            "goproxy.sumdb.declared-supported",
            "goproxy.go-client.download-verifies",
        ),
        _goproxy(
            "replica-sumdb-upstream-down",
            "the replicas say they serve the checksum database (/sumdb/<name>/supported is 200) but pass its "
            "requests to an address where nothing listens (502)",
            "goproxy.sumdb.lookup",
            "goproxy.go-client.download-verifies",
        ),
        _goproxy(
            "lb-no-healthcheck",
            "HAProxy balances blindly: no active health checks, no retries, no redispatch, so a dead replica "
            "keeps receiving its share of requests",
            "chaos.replica-crash.no-client-errors",
            "load.error-rate@failover",
        ),
        _goproxy(
            "lb-no-retries",
            "HAProxy health-checks its servers but retries nothing: the requests it sends to a replica that died, or to "
            "the node of a crashed Athens pod, before its checks take it out are the clients' failures",
            "chaos.replica-crash.no-client-errors",
            "load.error-rate@failover",
            "chaos.container-crash.no-client-errors",
            "load.error-rate@pods-failover",
        ),
        # --- cloud tier (moto as the Artifact Hub account): provisioned differently, see cloud_tier.py
        _cloud(
            "db-single-az",
            "the RDS PostgreSQL instance is created without Multi-AZ: no standby in a second zone to fail over to",
            "aws.rds.multi-az",
            "chaos.db-failover.multi-az",
        ),
        _cloud(
            "cert-not-renewable",
            "CloudFront and the ALB serve an IMPORTED certificate instead of one ACM issued: ACM never renews "
            "an imported certificate, and it has no DNS validation record",
            "aws.acm.renewable",
        ),
        _cloud(
            "waf-missing-rate-rule",
            "the web ACLs of CloudFront and the ALB keep only the AWS managed rule group: the rate-based rule is gone",
            "aws.wafv2.rate-based-rule",
        ),
        _cloud(
            "alb-one-az",
            "the ALB is given a subnet in one availability zone only (moto accepts it; AWS asks for two)",
            "aws.elbv2.two-zones",
        ),
        _cloud(
            "target-unhealthy",
            "one EC2 node registered in the hub target group is stopped: its target is not healthy "
            "(moto answers 'unused', Target.InvalidState)",
            "aws.elbv2.targets-healthy",
        ),
        # --- cluster tier (gauntlet local up --cluster): the seed manifests changed, see kube_workloads.py
        _cluster(
            "no-readiness-gate-label",
            "namespace artifacthub lacks the label elbv2.k8s.aws/pod-readiness-gate-inject=enabled: hub pods get no "
            "target-health.elbv2.k8s.aws/* readiness gate and count as Ready before the ALB finds them healthy",
            "kubernetes.readiness-gates.*",
        ),
        _cluster(
            "rollout-max-unavailable-100",
            "castle's Deployments (www, backend-a, backend-b) roll out with maxUnavailable: 100%: a deploy may take "
            "every pod of a tier down at once",
            "kubernetes.rollout.keeps-the-floor",
        ),
        _cluster(
            "no-pdb",
            "no PodDisruptionBudget for athens/athens or artifacthub/hub: a node drain may evict every replica at once",
            "kubernetes.pdb.*@athens/athens",
            "kubernetes.pdb.*@artifacthub/hub",
        ),
        _cluster(
            "all-pods-one-zone",
            "every seed pod is pinned to us-east-1a (nodeSelector) and the zone spread constraints are gone: "
            "Athens and the hub pods behind the ALB do not survive the loss of that zone",
            "kubernetes.spread.zones",
        ),
        _cluster(
            "hpa-min-1",
            "castle/www's HorizontalPodAutoscaler has minReplicas 1 (and www runs the 1 replica it settles at "
            "without load): below the 5 the seed needs for 50 rps",
            "kubernetes.hpa.bounds-as-claimed@castle/www",
            "kubernetes.replicas.ready@castle/www",
        ),
        _cluster(
            "readiness-is-liveness",
            "castle/www's liveness probe is its readiness probe (GET / through to the backend): a backend hiccup has "
            "the kubelet restart every www pod instead of taking them out of the Service",
            "kubernetes.probes.readiness-differs-from-liveness@castle/www",
        ),
        _cluster(
            "athens-readiness-is-liveness",
            "athens/athens's readiness probe asks /healthz, its liveness endpoint, which answers whatever the storage "
            "says: a pod that cannot serve from its storage stays in the Service",
            "kubernetes.probes.readiness-differs-from-liveness@athens/athens",
            "chaos.readiness.takes-pod-out",
        ),
        _cluster(
            "pdb-blocks-unhealthy-eviction",
            "athens/athens's PodDisruptionBudget has no unhealthyPodEvictionPolicy (IfHealthyBudget): crash-looping "
            "Athens pods that are not Ready block a node drain while the budget is spent",
            "kubernetes.pdb.evicts-unhealthy-pods@athens/athens",
        ),
        _cluster(
            "athens-disk-unbounded",
            "athens/athens keeps its disk storage on an emptyDir without ephemeral-storage requests or limits: the "
            "scheduler ignores the disk it needs, and a full cache fills the node's disk for every pod on it",
            "kubernetes.resources.ephemeral-storage@athens/athens",
        ),
        _cluster(
            "athens-memory-storage",
            "athens/athens runs with ATHENS_STORAGE_TYPE=memory: what it fetched is lost with the process, and every "
            "crashed or restarted pod fetches its modules again with git while clients wait",
            "athens.storage.persistent@athens/athens",
        ),
        _cluster(
            "backend-ingress-open",
            "castle's backend NetworkPolicy admits every source (ingress: [{}]): whatever reaches the pod network "
            "reaches the second tier",
            "kubernetes.network-policy.restricts-ingress@castle/backend",
        ),
        _cluster(
            "backend-one-replica-set",
            "castle's backend runs in one replica-set: backend-a holds both replicas, backend-b is scaled to 0; the "
            "failure of that ReplicaSet takes the second tier down until Kubernetes brings new pods up",
            "kubernetes.replica-sets.as-claimed@castle/backend",
            "kubernetes.replica-sets.survive-one-loss@castle/backend",
            "chaos.replica-set-loss.keeps-serving",
            "load.error-rate@castle-failover",
        ),
        # --- database tier (gauntlet local up --db): PostgreSQL and its clients misconfigured, see db_tier.py
        _db(
            "db-async-replication",
            "the primary replicates asynchronously (synchronous_standby_names empty, synchronous_commit local): a commit "
            "is acknowledged before the standby has it; before the failover the standby is held 2 s behind (its WAL "
            "receiver off), as an asynchronous standby trails under load, so the commits of those seconds are lost",
            "chaos.db-failover.multi-az",
        ),
        _db(
            "db-no-standby",
            "a single PostgreSQL server, no standby (RDS single-AZ): the failover fences the primary and has nothing "
            "to promote, so the database is down until the instance is restored",
            "chaos.db-failover.multi-az",
        ),
        _db(
            "db-clients-no-reconnect",
            "the application's connection pool has no health checks and no timeouts (psycopg_pool without check): "
            "a connection left open to the fenced primary hangs and the client never gets to the new primary",
            "chaos.db-failover.multi-az",
        ),
    )
}
