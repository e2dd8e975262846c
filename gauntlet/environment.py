"""The environment model: one YAML file per target deployment, validated.

Every field is typed and unknown fields are refused, so a typo is an error
that names the file, the field and what was expected, never a silent default.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from gauntlet import paths
from gauntlet.catalogue import LOAD_KINDS, PATTERN, catalogue
from gauntlet.exceptions import ConfigError
from gauntlet.goproxy.sumdb import database
from gauntlet.urls import is_loopback_host

CLAIM_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
NAME = r"^[a-z0-9]+([-.][a-z0-9]+)*$"
WORKLOAD_REF = r"^[a-z0-9]+([-.][a-z0-9]+)*/[a-z0-9]+([-.][a-z0-9]+)*$"
SECRET_REF = r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$"


def conformance_suites() -> tuple[str, ...]:
    """The suites that exist: one folder per area under ``conformance/``."""
    root = paths.ROOT / "conformance"
    return tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))))


def _beside_the_file(value: str, info: ValidationInfo) -> str:
    """A path of the environment file: ``{cache}``, ``~`` and ``$VARS`` expanded, then relative to the file's folder."""
    path = paths.expand(value)
    base = (info.context or {}).get("base")
    return str(path if path.is_absolute() or base is None else (base / path).resolve())


Flag = Annotated[bool, Field(strict=True)]
#: A named cipher policy of the edge: Mozilla's server-side TLS configurations (:mod:`gauntlet.edge.cipher_profile`).
CipherProfile = Literal["mozilla-modern", "mozilla-intermediate", "mozilla-old"]
#: A file named by the environment: absolute, or relative to the environment file; ``{cache}`` is the cache folder.
FilePath = Annotated[str, Field(min_length=1), AfterValidator(_beside_the_file)]
#: A check kind, a group of kinds (``edge.tls.*``), or a load kind with its profile (``load.p95@smoke``).
KindPattern = Annotated[str, Field(pattern=PATTERN.pattern)]
_EXPECT = {
    "url_parsing": "expected an absolute URL such as https://host:port/",
    "url_scheme": "expected an http or https URL",
    "date_from_datetime_parsing": "expected a date as YYYY-MM-DD",
    "date_parsing": "expected a date as YYYY-MM-DD",
    "date_type": "expected a date as YYYY-MM-DD",
    "bool_type": "expected true or false",
}
_PATTERNS = {CLAIM_ID: "expected a kebab-case id (lower-case letters and digits joined by dashes)",
             NAME: "expected a lower-case name (letters, digits, dashes, dots)",
             SECRET_REF: "expected ${VAR} naming the variable that holds it (a secret never goes into an environment file)"}


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Model):
    """Where a claim comes from: the document that makes the promise, and its sentence, quoted."""

    document: Annotated[str, Field(min_length=1, description="The file or address of the text that makes the promise.")]
    quote: Annotated[str, Field(min_length=1, description="The promise in its own words.")]


class Claim(Model):
    """One stated promise, the kinds of check that can prove or break it, and whether it gates."""

    id: Annotated[str, Field(pattern=CLAIM_ID)]
    statement: Annotated[str, Field(min_length=1)]
    source: Source
    evidence: tuple[KindPattern, ...] = Field(
        default=(), description="Check kinds (gauntlet checks) that are evidence for the claim: a kind, a group "
                                "ending in .* (edge.tls.*), or a load kind with its profile (load.p95@smoke).")
    required: tuple[KindPattern, ...] = Field(
        default=(), description="Evidence without which the claim is never verified (a resilience claim: its chaos "
                                "experiment, with the fault really injected); each among evidence.")
    workloads: tuple[Annotated[str, Field(pattern=WORKLOAD_REF)], ...] = Field(
        default=(), description="namespace/name of the kubernetes.workloads the claim speaks about: the per-workload "
                                "checks and the chaos experiments run on these.")
    about: Literal["service", "components"] = Field(
        default="service", description="service: judged on what clients see; a component that is down is a finding. "
                                       "components: the claim promises something of every component, so one down violates it.")
    gates: Flag = False
    known_risk: Flag = Field(
        default=False,
        description="The source itself states this promise is not kept: a violation is expected and reported as a known risk.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Claim:
        if self.gates and self.known_risk:
            raise ValueError("a known risk cannot gate cutover: set gates: false or known_risk: false")
        if self.gates and not self.evidence:
            raise _at(("evidence",), "a gating claim needs evidence: name the check kinds that prove it (gauntlet checks)")
        for i, pattern in enumerate(self.required):
            if pattern not in self.evidence:
                raise _at(("required", i), f"{pattern!r} is not among this claim's evidence {list(self.evidence)}")
        return self


class Endpoint(Model):
    """An HTTP(S) address of the target: the edge, an origin, a replica, an API."""

    name: Annotated[str, Field(pattern=NAME)]
    url: AnyHttpUrl
    role: Literal["edge", "origin", "replica", "service", "api"]
    ca_bundle: FilePath | None = Field(default=None, description="PEM bundle to trust besides the system store.")
    http2: Flag = Field(default=True, description="An https:// edge negotiates HTTP/2 (ALPN h2) with clients that offer it.")
    server_name: str | None = Field(default=None, description="TLS SNI and Host header when the URL is an address.")
    timeout_s: Annotated[float, Field(gt=0, le=300)] = Field(
        default=10.0, description="Longest wait for the connection, for the TLS handshake, for any one read.")
    deadline_s: Annotated[float, Field(gt=0, le=3600)] | None = Field(
        default=None, description="Longest one request may take in all (connection, headers and body), however slowly "
                                  "the answer comes; default: three times timeout_s.")

    @property
    def ca_path(self) -> Path | None:
        return Path(self.ca_bundle) if self.ca_bundle else None

    @property
    def scope(self) -> Literal["service", "component"]:
        """What a check against this endpoint observes: one replica is a component; the rest serve the service."""
        return "component" if self.role == "replica" else "service"

    @property
    def request_deadline_s(self) -> float:
        """``deadline_s``, else three times ``timeout_s``."""
        return self.deadline_s if self.deadline_s is not None else 3 * self.timeout_s


class Tls(Model):
    """TLS expectations at the edge."""

    hosts: tuple[str, ...] = ()
    min_version: Literal["1.2", "1.3"] = "1.2"
    min_days_to_expiry: Annotated[int, Field(ge=0)] = 14
    hsts_min_max_age: Annotated[int, Field(ge=0)] = 15552000
    redirect_http: Flag = True
    require_ocsp_stapling: Flag = Field(
        default=False, description="Fail, rather than report a finding, when the edge staples no OCSP response.")
    cipher_profile: CipherProfile = Field(
        default="mozilla-intermediate", description="The named cipher policy the edge's cipher suites must keep to "
                                                    "(Mozilla's server-side TLS configurations, 5.7).")


class RequestClass(Model):
    """A class of requests with one caching expectation (immutable artefacts, mutable lists, errors)."""

    name: Annotated[str, Field(pattern=NAME)]
    paths: tuple[str, ...] = Field(min_length=1)
    cache: Literal["immutable", "mutable", "no-store", "error"] = Field(
        description="error: paths that answer 4xx/5xx, kept no longer than cdn.error_max_ttl.")
    min_max_age: Annotated[int, Field(ge=0)] = 0
    max_max_age: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _error_ttl_is_the_cdns(self) -> RequestClass:
        if self.cache == "error" and (self.min_max_age or self.max_max_age is not None):
            raise ValueError("an error class takes its TTL from cdn.error_max_ttl: drop min_max_age/max_max_age")
        return self


class Waf(Model):
    """A rate-based WAF rule at the edge, and whether the edge suite may prove it with one bounded burst."""

    rate_limit: Annotated[int, Field(ge=1)] = Field(description="Requests one client may send per window before it is blocked.")
    window_s: Annotated[int, Field(ge=1, le=3600)] = 300
    burst_check: Flag = Field(default=False, description="Opt-in: send a burst above the rate (also needs chaos.allowed).")
    path: Annotated[str, Field(pattern=r"^/")] = "/"
    max_requests: Annotated[int, Field(ge=1, le=10000)] | None = Field(
        default=None, description="Most requests the burst may send; must exceed rate_limit.")
    within_s: Annotated[int, Field(ge=1, le=900)] = 120
    blocked_status: tuple[Annotated[int, Field(ge=400, le=599)], ...] = (429, 403)
    recover_within_s: Annotated[int, Field(ge=0, le=900)] = Field(
        default=0, description="How long normal traffic may stay blocked after the burst; 0: not awaited.")

    @model_validator(mode="after")
    def _bounded_burst(self) -> Waf:
        if self.burst_check and (self.max_requests is None or self.max_requests <= self.rate_limit):
            raise ValueError(f"burst_check needs max_requests above rate_limit ({self.rate_limit}): the burst must exceed the rate")
        return self


class Cdn(Model):
    """The CDN edge in front of the origin and what it should do."""

    provider: Literal["front-door", "cloudfront", "none"]
    request_classes: tuple[RequestClass, ...] = ()
    error_max_ttl: Annotated[int, Field(ge=0)] = 60
    maintenance_page: str | None = Field(default=None, description="Text the edge shows when the origin fails.")
    forbidden_headers: tuple[str, ...] = ("Server-Version", "X-Powered-By")
    query_in_cache_key: bool | None = Field(
        default=None, description="Whether the edge keys its cache on the query string (cache-busting works); default: the provider's.")
    max_wait_s: Annotated[int, Field(ge=0, le=900)] = Field(
        default=10, description="Longest a check may wait to watch a cached answer expire; longer TTLs are not-checked.")
    waf: Waf | None = None


class ModuleVersion(Model):
    module: Annotated[str, Field(min_length=1)]
    version: Annotated[str, Field(pattern=r"^v\d")]


class LatencyWindow(Model):
    """A latency budget is judged on a window: ``rounds`` passes over the probe set's paths (warm), the
    ``percentile`` of all their latencies against the budget."""

    rounds: Annotated[int, Field(ge=1, le=20)] = 3
    percentile: Annotated[float, Field(gt=0, le=100)] = 95


class Repetition(Model):
    """How hard the GOPROXY suite looks at answers that must be stable (not-found, ``@latest``, lists)."""

    samples: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=8, description="Requests per kind of stable answer and endpoint: distinct missing versions for "
                               "not-found, repeats of each probe module's URL (at least 2) for @latest and lists.")
    concurrency: Annotated[int, Field(ge=1, le=64)] = Field(default=4, description="Requests in flight at once.")
    within_s: Annotated[float, Field(gt=0, le=300)] = Field(
        default=10, description="Time budget of one kind at one endpoint: no sample starts after it.")


class Goproxy(Model):
    """A Go module proxy target: what to probe and what the proxy promises."""

    endpoints: tuple[str, ...] = Field(min_length=1, description="Endpoints serving the protocol: the edge and each origin/replica.")
    probe_set: tuple[ModuleVersion, ...] = Field(min_length=1)
    go_sum: FilePath | None = Field(default=None, description="Known-good go.sum lines of the probe set.")
    sumdb: tuple[str, ...] = Field(
        default=(), description="Checksum databases the proxy serves under /sumdb/<name>/, as GOSUMDB names them: "
                                "sum.golang.org, or a verifier key <name>+<hash>+<key> for any other.")
    go_client_sumdb: Flag = Field(
        default=True, description="Run the real go client with GOSUMDB set to the first of sumdb (verified through "
                                  "the proxy) rather than GOSUMDB=off.")
    repetition: Repetition = Repetition()
    budgets_ms: dict[Literal["artefact", "list"], Annotated[int, Field(gt=0)]] = Field(
        default={}, description="Latency budget per request class, judged on the latency window's percentile.")
    latency_window: LatencyWindow = Field(
        default=LatencyWindow(), description="How the budgets are judged: over rounds of the probe set.")

    @field_validator("sumdb")
    @classmethod
    def _databases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            database(entry)
        return value


class Hpa(Model):
    min: Annotated[int, Field(ge=1)]
    max: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _ordered(self) -> Hpa:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class Workload(Model):
    """A workload the claims speak about, and the capacity they promise for it."""

    namespace: Annotated[str, Field(pattern=NAME)]
    name: Annotated[str, Field(pattern=NAME)]
    kind: Literal["Deployment", "StatefulSet", "Job", "CronJob"] = "Deployment"
    parts: tuple[Annotated[str, Field(pattern=NAME)], ...] = Field(
        default=(), description="The objects of this kind the workload is made of, when it is more than the one "
                                "called name (castle's backend: two Deployments of one replica, one ReplicaSet each).")
    replicas: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Replicas the claims promise, summed over the parts.")
    replica_sets: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="ReplicaSets holding Ready pods the claims promise (one per part, for Deployments).")
    hpa: Hpa | None = None
    readiness_gate: Flag = False
    zones: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Availability zones (topology.kubernetes.io/zone) the Ready pods must span, at least.")
    pdb: Flag = False
    deregistration_delay_s: Annotated[int, Field(ge=0)] | None = None
    min_ready: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Ready replicas the claims need at all times, also during a rolling update or a "
                                  "voluntary disruption; default: the claimed replicas (replicas, else hpa.min) minus one, "
                                  "at least 1.")

    @model_validator(mode="after")
    def _floor_within_claim(self) -> Workload:
        if self.parts and self.hpa is not None:
            raise ValueError("an HPA scales one object: a workload made of parts cannot claim hpa bounds")
        claimed = self.claimed_replicas
        if self.min_ready is not None and claimed is not None and self.min_ready > claimed:
            raise ValueError(f"min_ready ({self.min_ready}) must not exceed the claimed replicas ({claimed})")
        return self

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def objects(self) -> tuple[str, ...]:
        """The names of the objects of ``kind`` that make the workload: ``parts``, else ``name``."""
        return self.parts or (self.name,)

    @property
    def claimed_replicas(self) -> int | None:
        """The fewest replicas the claims promise: ``replicas``, else the HPA's minimum."""
        if self.replicas is not None:
            return self.replicas
        return self.hpa.min if self.hpa is not None else None

    @property
    def capacity_floor(self) -> int | None:
        """``min_ready``, else one less than the claimed replicas (at least 1); None when nothing is claimed."""
        if self.min_ready is not None:
            return self.min_ready
        claimed = self.claimed_replicas
        return max(1, claimed - 1) if claimed else None


class LiveRollout(Model):
    """Opt-in: the kubernetes suite restarts this Deployment's pods (a rolling update) and watches it."""

    workload: Annotated[str, Field(pattern=r"^[a-z0-9]+([-.][a-z0-9]+)*/[a-z0-9]+([-.][a-z0-9]+)*$",
                                   description="namespace/name of a Deployment among kubernetes.workloads.")]
    timeout_s: Annotated[int, Field(ge=10, le=3600)] = Field(
        default=300, description="Longest the rollout may take before the check fails.")
    interval_s: Annotated[float, Field(ge=0.2, le=10)] = Field(default=1.0, description="Time between two samples.")
    endpoint: Annotated[str, Field(pattern=NAME)] | None = Field(
        default=None, description="An endpoint of the environment served by the workload, requested at every sample.")


class Kubernetes(Model):
    """The cluster: which kubeconfig context, which API server, which workloads."""

    context: Annotated[str, Field(min_length=1)]
    api_server: AnyHttpUrl
    kubeconfig: FilePath | None = None
    namespaces: tuple[str, ...] = ()
    readiness_gate_namespaces: tuple[str, ...] = ()
    workloads: tuple[Workload, ...] = ()
    allow_exec: Flag = False
    manifests: tuple[FilePath, ...] = Field(
        default=(), description="YAML files or folders of the next install or upgrade (helm template output): validated "
                                "offline against the cluster's own OpenAPI, like kubeconform.")
    live_rollout: LiveRollout | None = Field(
        default=None, description="Opt-in mutating check: a rolling restart of one Deployment (also needs chaos.allowed "
                                  "and its namespace in chaos.namespaces).")

    @model_validator(mode="after")
    def _workloads(self) -> Kubernetes:
        refs = [f"{w.kind}:{w.ref}" for w in self.workloads]
        for i, ref in enumerate(refs):
            if ref in refs[:i]:
                raise _at(("kubernetes", "workloads", i), f"duplicate workload {ref.partition(':')[2]} ({ref.partition(':')[0]})")
        if self.live_rollout is not None:
            deployments = sorted(w.ref for w in self.workloads if w.kind == "Deployment")
            if self.live_rollout.workload not in deployments:
                raise _at(("kubernetes", "live_rollout", "workload"),
                          f"expected a Deployment of kubernetes.workloads {deployments}, got {self.live_rollout.workload!r}")
        return self

    @property
    def kubeconfig_path(self) -> Path | None:
        return Path(self.kubeconfig) if self.kubeconfig else None

    def workload(self, ref: str, kind: str = "Deployment") -> Workload:
        return next(w for w in self.workloads if w.ref == ref and w.kind == kind)


class NodeGroupSize(Hpa):
    """The size bounds of a managed node group (``minSize``, ``maxSize``)."""


class Aws(Model):
    """AWS identifiers of the target; read-only calls only."""

    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")]
    profile: str | None = None
    credentials_file: FilePath | None = Field(
        default=None, description="AWS shared credentials file holding the profile, instead of ~/.aws/credentials.")
    endpoint_url: AnyHttpUrl | None = Field(default=None, description="Another AWS API endpoint, e.g. the local moto server.")
    emulator: Literal["moto"] | None = Field(
        default=None, description="The API at endpoint_url is an emulator: checks of what it cannot model say not-checked.")
    max_attempts: Annotated[int, Field(ge=1, le=10)] = Field(
        default=5, description="Attempts per AWS call, throttled or transient failures retried with exponential backoff.")
    rds_instances: tuple[str, ...] = ()
    cloudfront_distribution: str | None = None
    load_balancer: str | None = None
    hosted_zone: str | None = None
    domain: str | None = None
    certificate_arn: str | None = Field(default=None, description="CloudFront's viewer certificate (ACM, always us-east-1).")
    alb_certificate_arn: str | None = Field(default=None, description="The ALB's HTTPS certificate (ACM, in the ALB's region).")
    web_acl: str | None = Field(default=None, description="Name of the web ACL (CLOUDFRONT scope) of the distribution.")
    alb_web_acl: str | None = Field(default=None, description="Name of the web ACL (REGIONAL scope) of the ALB.")
    eks_cluster: str | None = None
    node_group: str | None = None
    node_group_size: NodeGroupSize | None = None
    ecr_repositories: tuple[str, ...] = ()
    separate_from: tuple[Annotated[str, Field(pattern=NAME)], ...] = Field(
        default=(), description="Other environments whose RDS instances and EKS cluster must not be this one's.")

    @model_validator(mode="after")
    def _emulator_has_an_endpoint(self) -> Aws:
        if self.emulator and self.endpoint_url is None:
            raise ValueError(f"emulator: {self.emulator} is reached at endpoint_url, which is missing")
        return self


class Azure(Model):
    """Azure identifiers of the target."""

    subscription: str | None = None
    resource_group: str | None = None
    cosmos_account: str | None = None
    front_door: str | None = None


class Database(Model):
    """The environment's database as its clients reach it (the stable endpoint a failover moves), the
    credentials by reference, and how a failover is driven: ``rds`` (RebootDBInstance with ForceFailover,
    chaostoolkit-aws) or ``local-tier`` (the local stack's PostgreSQL pair, ``gauntlet local up --db``)."""

    engine: Literal["postgres"] = "postgres"
    host: Annotated[str, Field(min_length=1, description="The endpoint clients connect to (RDS: Endpoint.Address).")]
    port: Annotated[int, Field(ge=1, le=65535)] = 5432
    name: Annotated[str, Field(min_length=1, description="The database (dbname) the client probes connect to.")]
    user: Annotated[str, Field(min_length=1, description="Role of the client probes, or ${VAR} naming the variable that holds it.")]
    password: Annotated[str, Field(pattern=SECRET_REF)] | None = Field(
        default=None, description="${VAR} naming the variable that holds the password; never the password itself.")
    passfile: FilePath | None = Field(
        default=None, description="A libpq password file (host:port:db:user:password lines) instead of password.")
    sslmode: Literal["disable", "require", "verify-ca", "verify-full"] = "verify-full"
    sslrootcert: FilePath | None = Field(default=None, description="CA bundle for verify-ca/verify-full (RDS: the region's bundle).")
    failover: Literal["rds", "local-tier"] = Field(
        default="rds", description="rds: RebootDBInstance(ForceFailover) on aws.rds_instances; local-tier: the local stack's "
                                   "PostgreSQL primary and standby (the standby promoted, the old primary fenced).")
    unavailability_budget_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=120, description="Longest a failover may keep writes (and reads) failing, as the clients see it.")
    connect_timeout_s: Annotated[int, Field(ge=2, le=60)] = Field(
        default=5, description="libpq connect_timeout of the client probes (2 at least, libpq's minimum).")

    @model_validator(mode="after")
    def _credentials_and_target(self) -> Database:
        if self.password is not None and self.passfile is not None:
            raise ValueError("expected password (${VAR}) or passfile, not both")
        if self.failover == "local-tier" and not is_loopback_host(self.host):
            raise ValueError(f"failover local-tier drives the local stack's database tier: expected a loopback host, got {self.host!r}")
        return self

    @property
    def passfile_path(self) -> Path | None:
        return Path(self.passfile) if self.passfile else None


class Slo(Model):
    """One service-level objective of a load profile: check kind ``load.<metric>``, named by a claim as
    ``load.<metric>@<profile>`` (``load.p95@smoke``)."""

    metric: Literal["rps", "p50_ms", "p95_ms", "p99_ms", "error_rate"]
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Slo:
        if (self.min is None) == (self.max is None):
            raise ValueError("expected exactly one of min or max")
        return self


class StopCondition(Model):
    """Ends a load run early: error rate or p95 beyond the limit for ``for_s`` seconds."""

    error_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    p95_ms: Annotated[float, Field(gt=0)] | None = None
    for_s: Annotated[int, Field(ge=1)] = 5


#: Bounds of a load profile: beyond them a typo, not a plan (a distributed run of 100 000 users is already huge).
MAX_USERS, MAX_SPAWN_RATE, MAX_REQUESTS = 100_000, 10_000, 1_000_000_000
#: The load users: each kind is the Locust user of ``load/<kind>.py`` (:data:`gauntlet.load.runner.LOCUSTFILES`).
UserKind = Literal["goproxy", "web", "artifacthub"]


class LoadProfile(Model):
    """A bounded load run: who, what shape, for how long, how many requests at most.

    ``duration_s`` and ``max_requests`` are both required: a run without a time and a
    request bound is refused here, before anything is sent; so are users, spawn rates and
    request bounds beyond :data:`MAX_USERS`, :data:`MAX_SPAWN_RATE`, :data:`MAX_REQUESTS`.
    """

    user: UserKind
    endpoint: Annotated[str, Field(pattern=NAME)]
    shape: Literal["steady", "step", "spike", "soak"] = "steady"
    users: Annotated[int, Field(ge=1, le=MAX_USERS)]
    spawn_rate: Annotated[float, Field(gt=0, le=MAX_SPAWN_RATE)] = 10
    duration_s: Annotated[int, Field(ge=1, le=86400)]
    max_requests: Annotated[int, Field(ge=1, le=MAX_REQUESTS)]
    steps: Annotated[int, Field(ge=1, le=1000)] = 1
    stop: StopCondition = StopCondition(error_rate=0.05)
    slos: tuple[Slo, ...] = ()
    wait_s: tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(ge=0)]] = Field(
        default=(0.5, 1.5), description="Think time of a user between two iterations, seconds: [min, max].")
    modules: FilePath | None = Field(
        default=None, description="goproxy: module set file ('module version' per line, most popular first); "
                                  "default: the environment's goproxy.probe_set.")
    cold_ratio: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.1, description="goproxy: share of downloads drawn uniformly from the whole module set (the cold "
                                 "long tail); the rest follow a Zipf popularity over the set's order (the warm head).")
    paths: tuple[Annotated[str, Field(pattern=r"^/")], ...] = Field(
        default=(), description="web, artifacthub: pages and assets to request; default: /.")
    queries: tuple[Annotated[str, Field(min_length=1)], ...] = Field(
        default=(), description="artifacthub: search terms of the browse/search user.")
    during: Annotated[tuple[Annotated[str, Field(pattern=NAME)], ...], WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": NAME}, {"type": "array", "items": {"type": "string", "pattern": NAME}}]}
    )] = Field(
        default=(), description="The chaos experiments this profile is evidence only alongside (a name or a list): "
                                "its SLOs are judged on the fault window of the one it runs beside; run alone, or "
                                "when no fault was injected, they are not evidence.")

    @field_validator("during", mode="before")
    @classmethod
    def _one_or_more(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _user_fields(self) -> LoadProfile:
        if self.wait_s[0] > self.wait_s[1]:
            raise ValueError(f"wait_s: min ({self.wait_s[0]}) must not exceed max ({self.wait_s[1]})")
        if self.modules is not None and self.user != "goproxy":
            raise ValueError(f"modules: only a goproxy user downloads modules, this profile's user is {self.user!r}")
        if "cold_ratio" in self.model_fields_set and self.user != "goproxy":
            raise ValueError(f"cold_ratio: only a goproxy user has a warm/cold module mix, this profile's user is {self.user!r}")
        if self.queries and self.user != "artifacthub":
            raise ValueError(f"queries: only an artifacthub user searches, this profile's user is {self.user!r}")
        metrics = [slo.metric for slo in self.slos]
        for i, metric in enumerate(metrics):
            if metric in metrics[:i]:
                raise _at(("slos", i, "metric"), f"a second {metric} SLO: a profile has one SLO per metric")
        return self


class SteadyStateWindow(Model):
    """How a steady-state probe with a latency budget is judged: over a window of answers, never on one.

    The probe takes ``samples`` answers ``interval_s`` apart; it holds when the ``percentile`` of their
    latencies is within the budget and at most ``max_errors`` of them failed (no answer, or not 200).
    With the default, one slow answer in five is a data point, not a verdict."""

    samples: Annotated[int, Field(ge=1, le=50)] = 5
    interval_s: Annotated[float, Field(ge=0, le=10)] = 0.2
    percentile: Annotated[float, Field(gt=0, le=100)] = 80
    max_errors: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _fewer_errors_than_samples(self) -> SteadyStateWindow:
        if self.max_errors >= self.samples:
            raise _at(("max_errors",), f"must be below samples ({self.samples}): a window of errors only would hold")
        return self


class ChaosPolicy(Model):
    """What chaos may do here. The default is: nothing."""

    allowed: Flag = False
    namespaces: tuple[str, ...] = ()
    max_pods_per_action: Annotated[int, Field(ge=0)] = 1
    confirm: Flag = True
    steady_state_deadline_s: Annotated[int, Field(ge=1)] = 120
    steady_state_window: SteadyStateWindow = SteadyStateWindow()
    db_write_probe: Flag = Field(
        default=False, description="During a database failover the client probes may write sequenced rows (table "
                                   "gauntlet_failover_probe, deleted afterwards) to prove no acknowledged write is lost; "
                                   "otherwise they only read.")


class History(Model):
    """Where run summaries are kept, and whether a regression fails the gate."""

    path: FilePath | None = Field(default=None, description="SQLite file (a shared disk); default reports/history.sqlite.")
    gate_on_regression: Flag = False
    tolerance: Annotated[float, Field(ge=0, le=10)] = 0.2


class Notify(Model):
    """Where the gate's verdict is announced (Slack-compatible JSON)."""

    webhook_url: Annotated[str, Field(min_length=1,
                                      description="URL, or ${VAR} naming the variable that holds it (webhook URLs are secrets).")]
    on: tuple[Literal["pass", "fail", "not-checked"], ...] = ("fail", "not-checked")


class Waiver(Model):
    """Lets a known violation pass the gate until it expires."""

    claim: Annotated[str, Field(pattern=CLAIM_ID)]
    reason: Annotated[str, Field(min_length=1)]
    owner: Annotated[str, Field(min_length=1)]
    expires: dt.date

    def active(self, today: dt.date) -> bool:
        return today <= self.expires


BodyKind = Literal["list", "info", "mod", "zip", "page"]
#: Default caps, bytes: version lists and @latest; .info; .mod (Go's own limit, codehost.MaxGoMod);
#: .zip (Go allows 500 MiB: raise it for larger modules); anything else (pages, API answers, errors).
BODY_BYTES: dict[BodyKind, int] = {"list": 4 << 20, "info": 64 << 10, "mod": 16 << 20, "zip": 64 << 20, "page": 4 << 20}


def body_kind(path: str) -> BodyKind:
    """The kind of answer a request path asks for, by the module proxy protocol's endings; else ``page``."""
    path = path.split("?", 1)[0]
    for ending, kind in (("/@v/list", "list"), ("/@latest", "list"), (".info", "info"), (".mod", "mod"), (".zip", "zip")):
        if path.endswith(ending):
            return kind  # type: ignore[return-value]
    return "page"


class Limits(Model):
    """What one answer may cost a check or a load user: an answer longer than its cap is a finding (the check
    fails saying the answer exceeded it) and is not read further, so a hostile target cannot exhaust memory."""

    body_bytes: dict[BodyKind, Annotated[int, Field(ge=1024, le=4 << 30)]] = Field(
        default={}, description=f"Most bytes read of one answer, per kind of request: {sorted(BODY_BYTES)}; "
                                f"default {BODY_BYTES}.")
    go_client_mb: Annotated[int, Field(ge=256, le=65536)] = Field(
        default=1024, description="Most memory (address space) the real go client may use: an endless answer makes "
                                  "it fail (out of memory), not the machine.")

    def body_cap(self, kind: BodyKind) -> int:
        return self.body_bytes.get(kind, BODY_BYTES[kind])


class Gate(Model):
    """What the pre-cutover gate (``gauntlet gate``) asks of the gating claims beyond their verdict."""

    full_coverage: Flag = Field(
        default=False, description="A gating claim verified with some of its check kinds unchecked (partial coverage) "
                                   "blocks the gate as a not-checked one does (exit 3).")


class Environment(Model):
    """One target deployment and its claims."""

    name: Annotated[str, Field(pattern=NAME)]
    description: Annotated[str, Field(min_length=1)]
    production: Flag = False
    endpoints: tuple[Endpoint, ...] = ()
    tls: Tls | None = None
    cdn: Cdn | None = None
    goproxy: Goproxy | None = None
    kubernetes: Kubernetes | None = None
    aws: Aws | None = None
    database: Database | None = None
    azure: Azure | None = None
    load_profiles: dict[str, LoadProfile] = {}
    chaos: ChaosPolicy = ChaosPolicy()
    waivers: tuple[Waiver, ...] = ()
    history: History = History()
    gate: Gate = Gate()
    notify: Notify | None = None
    limits: Limits = Limits()
    claims: tuple[Claim, ...] = Field(min_length=1)

    def __repr__(self) -> str:
        """Short: an environment is named in messages, never dumped into them."""
        return f"Environment({self.name!r})"

    @model_validator(mode="after")
    def _references(self) -> Environment:
        """What one part of the environment names in another exists there; the first that does not is the error."""
        _check_endpoint_names(self)
        _check_claim_ids(self)
        _check_waivers(self)
        _check_slos_claimed(self, _check_claims(self))
        _check_failover(self)
        _check_chaos_target(self)
        return self

    def workloads_of(self, claim: Claim) -> list[Workload]:
        """The workloads a claim speaks about, in the order it names them."""
        known = self.kubernetes.workloads if self.kubernetes else ()
        return [w for ref in claim.workloads for w in known if w.ref == ref]

    def claim(self, claim_id: str) -> Claim:
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        raise ConfigError(f"environment {self.name!r}: unknown claim {claim_id!r}: expected one of {[c.id for c in self.claims]}")

    def endpoint(self, name: str) -> Endpoint:
        for endpoint in self.endpoints:
            if endpoint.name == name:
                return endpoint
        raise ConfigError(f"environment {self.name!r}: unknown endpoint {name!r}: expected one of {[e.name for e in self.endpoints]}")

    def load_profile(self, name: str) -> LoadProfile:
        if name not in self.load_profiles:
            raise ConfigError(f"environment {self.name!r}: unknown load profile {name!r}: expected one of {sorted(self.load_profiles)}")
        return self.load_profiles[name]

    def active_waiver(self, claim_id: str, today: dt.date) -> Waiver | None:
        return next((w for w in self.waivers if w.claim == claim_id and w.active(today)), None)


def _check_endpoint_names(env: Environment) -> None:
    """Load profiles, the GOPROXY suite and the live rollout name endpoints of this environment."""
    names = sorted(e.name for e in env.endpoints)
    used: list[tuple[tuple[str | int, ...], str]] = [(("load_profiles", n, "endpoint"), p.endpoint) for n, p in env.load_profiles.items()]
    used += [(("goproxy", "endpoints"), n) for n in (env.goproxy.endpoints if env.goproxy else ())]
    live = env.kubernetes.live_rollout if env.kubernetes else None
    if live is not None and live.endpoint is not None:
        used.append((("kubernetes", "live_rollout", "endpoint"), live.endpoint))
    for loc, name in used:
        if name not in names:
            raise _at(loc, f"expected one of the endpoints {names}, got {name!r}")


def _check_claim_ids(env: Environment) -> None:
    """Each claim id is unique."""
    ids = [c.id for c in env.claims]
    for i, claim_id in enumerate(ids):
        if claim_id in ids[:i]:
            raise _at(("claims", i, "id"), f"duplicate claim id {claim_id!r}: each claim id must be unique")


def _check_waivers(env: Environment) -> None:
    """Each waiver waives a claim of this environment."""
    ids = [c.id for c in env.claims]
    for i, waiver in enumerate(env.waivers):
        if waiver.claim not in ids:
            raise _at(("waivers", i, "claim"), f"expected a claim id of this environment, got {waiver.claim!r}")


def _unknown_kind(kind: str) -> str:
    """Why a claim's kind is unknown, with the nearest kinds or groups of the catalogue."""
    known = sorted(catalogue().kinds)
    groups = sorted({k.rsplit(".", depth)[0] + ".*" for k in known for depth in (1, 2) if k.count(".") >= depth})
    near = difflib.get_close_matches(kind, known + groups, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(near)}?)" if near else ""
    return f"unknown check kind {kind!r}: expected a kind or a group of `gauntlet checks`{hint}"


def _check_claims(env: Environment) -> set[tuple[str, str]]:
    """Each claim's evidence, then its workloads, claim by claim; the (profile, metric) of the SLOs they name."""
    named: set[tuple[str, str]] = set()
    for i, claim in enumerate(env.claims):
        named |= _check_evidence(env, i, claim)
        _check_claim_workloads(env, i, claim)
    return named


def _check_evidence(env: Environment, i: int, claim: Claim) -> set[tuple[str, str]]:
    """Every pattern of claim ``i`` names kinds of the catalogue; load kinds name a profile that has their SLO;
    per-workload kinds come with the workloads. The (profile, metric) of the SLOs it names."""
    named: set[tuple[str, str]] = set()
    for j, pattern in enumerate(claim.evidence):
        kind, _, profile = pattern.partition("@")
        found = catalogue().matching(kind)
        if not found:
            raise _at(("claims", i, "evidence", j), _unknown_kind(kind))
        loads = [k for k in found if k.evidence == "load"]
        if profile or loads:
            named |= _check_load_pattern(env, ("claims", i, "evidence", j), kind, profile, found, loads)
        if any(k.per_workload for k in found) and not claim.workloads:
            raise _at(("claims", i, "workloads"), f"{kind} is checked per workload: name the workloads this claim "
                                                  "speaks about (namespace/name of kubernetes.workloads)")
    return named


def _check_claim_workloads(env: Environment, i: int, claim: Claim) -> None:
    """Each workload claim ``i`` speaks about is one of kubernetes.workloads."""
    refs = {w.ref for w in (env.kubernetes.workloads if env.kubernetes else ())}
    for j, ref in enumerate(claim.workloads):
        if ref not in refs:
            raise _at(("claims", i, "workloads", j), f"expected a workload of kubernetes.workloads {sorted(refs)}, got {ref!r}")


def _check_slos_claimed(env: Environment, named: set[tuple[str, str]]) -> None:
    """Every SLO of a load profile is evidence for some claim (``named``: the SLOs the claims name)."""
    for name, profile in env.load_profiles.items():
        for j, slo in enumerate(profile.slos):
            if (name, slo.metric) not in named:
                kind = LOAD_KINDS[slo.metric][0]
                raise _at(("load_profiles", name, "slos", j), f"no claim names {kind}@{name}: an SLO that is evidence for "
                                                              "no claim would be judged for nothing")


def _check_failover(env: Environment) -> None:
    """An RDS failover has an instance to fail over."""
    if env.database is not None and env.database.failover == "rds" and not (env.aws and env.aws.rds_instances):
        raise _at(("database", "failover"), "rds fails over the instance of aws.rds_instances, which names none")


def _check_chaos_target(env: Environment) -> None:
    """Chaos allowed has something to act on: a cluster or an endpoint."""
    if env.chaos.allowed and env.kubernetes is None and not env.endpoints:
        raise _at(("chaos", "allowed"), "chaos is allowed but the environment names no cluster and no endpoint")


def _check_load_pattern(env: Environment, loc: tuple[str | int, ...], kind: str, profile: str,
                        found: list, loads: list) -> set[tuple[str, str]]:
    if not profile:
        raise _at(loc, f"{kind} is a load kind: name its profile, {kind}@<profile>")
    if len(loads) != len(found):
        raise _at(loc, f"@{profile}: only load kinds (load.*) run in a load profile, {kind} names others too")
    if profile not in env.load_profiles:
        raise _at(loc, f"@{profile}: expected one of the load profiles {sorted(env.load_profiles)}")
    metrics = {slo.metric for slo in env.load_profiles[profile].slos}
    kept = {m for m, (k, _) in LOAD_KINDS.items() if m in metrics and any(k == f.id for f in loads)}
    if not kept:
        raise _at(loc, f"load profile {profile} has no SLO for {kind}: its SLOs are {sorted(metrics) or 'none'}")
    return {(profile, m) for m in kept}


class _LocatedError(ValueError):
    """A cross-field error that knows the field it belongs to."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _at(loc: tuple[str | int, ...], message: str) -> _LocatedError:
    return _LocatedError(loc, message)


def _field(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(error: ErrorDetails) -> tuple[str, str]:
    """(field, expectation) of pydantic's first error, in an on-call engineer's words."""
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith(("function-", "tagged-union"))))
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, _LocatedError):
        return _field(loc + cause.loc), str(cause)
    kind, got = error["type"], error.get("input")
    if kind == "extra_forbidden":
        return _field(loc), "unknown field (check its spelling)"
    if kind == "missing":
        return _field(loc), "required field is missing"
    pattern = ctx.get("pattern")
    if kind in _EXPECT:
        message = _EXPECT[kind]
    elif kind == "string_pattern_mismatch" and pattern in _PATTERNS:
        message = _PATTERNS[pattern]
    elif cause is not None:
        message = str(cause)
    else:
        message = (error["msg"].removeprefix("Value error, ").replace("Input should be", "expected")
                   .replace("String should match pattern", "expected text matching").replace("Input ", "expected input "))
    if kind != "value_error" and not isinstance(got, (dict, list)) and pattern != SECRET_REF:  # never echo a secret
        message += f", got {got!r}"
    return _field(loc), message


#: Bounds on an environment file and on the work of reading it: its size, its nesting, its nodes (an alias
#: counts as the nodes it repeats, so a few lines of anchors cannot expand to millions).
MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_NODES = 100_000
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML gauntlet refuses: a duplicate key, nesting too deep, too many nodes."""


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, bounded (:data:`MAX_DEPTH`, :data:`MAX_NODES`), refusing duplicate keys, and leaving
    dates as text for the model to judge (``2030-13-45`` is then a field error, not a crash)."""

    yaml_implicit_resolvers = {first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
                               for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str | int] = []
        self._depth = 0
        self._nodes = 0

    def _count(self, n: int, mark: yaml.Mark) -> None:
        self._nodes += n
        if self._nodes > MAX_NODES:
            raise _Refused(None, None, f"more than {MAX_NODES} values (aliases counted as what they repeat): "
                                       "not an environment file", mark)

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # stub: peek_event unannotated
            anchored = self.anchors.get(event.anchor)
            self._count(getattr(anchored, "gauntlet_size", 1), event.start_mark)
            return super().compose_node(parent, index)  # type: ignore[arg-type, return-value]  # stub: index node|int, never None
        if self._depth >= MAX_DEPTH:
            where = _field(tuple(self._path[:4])) + ("…" if len(self._path) > 4 else "")
            raise _Refused(None, None, f"{where}: nested deeper than {MAX_DEPTH} levels",
                           self.peek_event().start_mark)  # type: ignore[no-untyped-call]  # as above
        pushed = isinstance(index, (yaml.Node, int))
        if pushed:
            self._path.append(str(index.value) if isinstance(index, yaml.Node) else index)  # type: ignore[arg-type]
        self._depth += 1
        before = self._nodes
        try:
            node: yaml.Node = super().compose_node(parent, index)  # type: ignore[arg-type, assignment]  # as above
            self._count(1, node.start_mark)
            node.gauntlet_size = self._nodes - before  # type: ignore[attr-defined]
            if isinstance(node, yaml.MappingNode):
                self._no_duplicates(node)
        finally:
            self._depth -= 1
            if pushed:
                self._path.pop()
        return node

    def _no_duplicates(self, node: yaml.MappingNode) -> None:
        seen: dict[str, int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            if key.value in seen:
                raise _Refused(None, None, f"{_field((*self._path, key.value))}: duplicate key {key.value!r} (first on line "
                                           f"{seen[key.value] + 1}): each field must be given once", key.start_mark)
            seen[key.value] = key.start_mark.line


_Loader.add_constructor(_TIMESTAMP, yaml.SafeLoader.construct_yaml_str)  # type: ignore[type-var]  # stub: binds to loaders only


def parse_environment(text: str, file: Path) -> Environment:
    """Validate the YAML text of an environment file; errors name the file and the field."""
    if len(text.encode("utf-8", "surrogateescape")) > MAX_FILE_BYTES:
        raise ConfigError(f"{file}: larger than {MAX_FILE_BYTES >> 20} MiB: not an environment file")
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if isinstance(exc, _Refused):
            raise ConfigError(f"{file}:{where}: {problem}") from None
        raise ConfigError(f"{file}:{where}: not valid YAML ({problem})") from None
    except RecursionError:
        raise ConfigError(f"{file}: nested too deeply to read: not an environment file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: expected a mapping of environment fields at the top level, got {type(data).__name__}")
    if "name" in data and data["name"] != file.stem:
        raise ConfigError(f"{file}: name: expected {file.stem!r} (the file's name), got {data['name']!r}")
    try:
        env = Environment.model_validate(data, context={"base": file.resolve().parent})
    except ValidationError as exc:
        errors = exc.errors()
        field, expectation = _describe(errors[0])
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        raise ConfigError(f"{file}: {field}: {expectation}{more}") from None
    _register_secrets(env)
    return env


def _register_secrets(env: Environment) -> None:
    """The credentials an environment file holds, for :mod:`gauntlet.redact` to mask wherever they appear."""
    from gauntlet import redact

    for url in [e.url for e in env.endpoints] + [env.aws.endpoint_url if env.aws else None,
                                                 env.kubernetes.api_server if env.kubernetes else None]:
        redact.register_url(str(url) if url is not None else None)
    if env.notify is not None and "${" not in env.notify.webhook_url:
        redact.register(env.notify.webhook_url)


def environment_names(directory: Path | None = None) -> list[str]:
    directory = directory or paths.environments_dir()
    if not directory.is_dir():
        raise ConfigError(f"{directory}: environments folder not found (set --environments-dir or GAUNTLET_ENVIRONMENTS_DIR)")
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_environment(name: str, directory: Path | None = None) -> Environment:
    """Load ``<directory>/<name>.yaml``; an unknown name lists the known ones."""
    directory = directory or paths.environments_dir()
    names = environment_names(directory)
    if not re.match(NAME, name) or name not in names:
        raise ConfigError(f"{directory}: unknown environment {name!r}: expected one of {names}")
    file = directory / f"{name}.yaml"
    try:
        with open(file, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ConfigError(f"{file}: larger than {MAX_FILE_BYTES >> 20} MiB: not an environment file")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read the environment file ({exc})") from None
    return parse_environment(text, file)


def load_all(directory: Path | None = None) -> list[Environment]:
    directory = directory or paths.environments_dir()
    return [load_environment(name, directory) for name in environment_names(directory)]

