"""The environment model: valid files load, every bad input gets one line naming file, field, expectation."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from gauntlet import environment
from gauntlet.environment import load_all, load_environment, parse_environment
from gauntlet.exceptions import ConfigError

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def test_minimal_environment_loads(write_env, env_data):
    write_env(env_data)
    env = load_environment("sample")
    assert [c.id for c in env.claims] == ["sample-protocol", "sample-fast", "sample-risk"]
    assert env.chaos.allowed is False, "chaos must be refused unless the environment allows it"
    assert env.load_profile("smoke").max_requests == 100


@pytest.mark.parametrize(("during", "expected"), [("pod-loss", ("pod-loss",)), (["pod-loss", "node-drain"], ("pod-loss", "node-drain"))])
def test_a_fault_window_profile_names_one_experiment_or_several(write_env, env_data, during, expected):
    env_data["load_profiles"]["smoke"]["during"] = during
    write_env(env_data)
    assert load_environment("sample").load_profile("smoke").during == expected


def _set(path: str, value) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = data
        for part in parents:
            node = node[part]
        node[last] = value
    return mutate


def _drop(path: str) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = data
        for part in parents:
            node = node[part]
        del node[last]
    return mutate


def _dup_claim(data: dict) -> None:
    data["claims"].append(dict(data["claims"][0]))


BAD = [
    ("duplicate-claim-id", _dup_claim, "claims[3].id", "duplicate claim id 'sample-protocol'"),
    ("claim-id-not-kebab", _set("claims.0.id", "Sample_Protocol"), "claims[0].id", "kebab-case"),
    ("claim-without-id", _drop("claims.0.id"), "claims[0].id", "required field is missing"),
    ("claim-without-source", _drop("claims.0.source"), "claims[0].source", "required field is missing"),
    ("source-without-quote", _drop("claims.0.source.quote"), "claims[0].source.quote", "required field is missing"),
    ("gates-not-boolean", _set("claims.0.gates", "yes"), "claims[0].gates", "expected true or false"),
    ("unknown-kind", _set("claims.0.evidence", ["goproxy.lisst.canonical-versions"]), "claims[0].evidence[0]",
     "unknown check kind 'goproxy.lisst.canonical-versions': expected a kind or a group of `gauntlet checks` "
     "(did you mean goproxy.list.canonical-versions"),
    ("unknown-group", _set("claims.0.evidence", ["meteor.*"]), "claims[0].evidence[0]", "unknown check kind 'meteor.*'"),
    ("kind-not-a-pattern", _set("claims.0.evidence", ["conformance:goproxy"]), "claims[0].evidence[0]", "expected text matching"),
    ("load-kind-without-profile", _set("claims.1.evidence", ["load.p95"]), "claims[1].evidence[0]",
     "load.p95 is a load kind: name its profile, load.p95@<profile>"),
    ("unknown-profile", _set("claims.1.evidence", ["load.p95@nightly"]), "claims[1].evidence[0]",
     "@nightly: expected one of the load profiles ['smoke']"),
    ("profile-without-that-slo", _set("claims.1.evidence", ["load.p95@smoke", "load.rps@smoke"]), "claims[1].evidence[1]",
     "load profile smoke has no SLO for load.rps: its SLOs are ['p95_ms']"),
    ("profile-on-a-conformance-kind", _set("claims.0.evidence", ["goproxy.*@smoke"]), "claims[0].evidence[0]",
     "@smoke: only load kinds (load.*) run in a load profile"),
    ("slo-evidence-for-no-claim", _set("claims.1.evidence", ["goproxy.zip.valid"]), "load_profiles.smoke.slos[0]",
     "no claim names load.p95@smoke: an SLO that is evidence for no claim would be judged for nothing"),
    ("gating-claim-without-evidence", _set("claims.0.evidence", []), "claims[0].evidence",
     "a gating claim needs evidence: name the check kinds that prove it"),
    ("required-not-in-evidence", _set("claims.0.required", ["goproxy.zip.valid"]), "claims[0].required[0]",
     "'goproxy.zip.valid' is not among this claim's evidence ['goproxy.*']"),
    ("per-workload-kind-without-workloads", _set("claims.0.evidence", ["kubernetes.pdb.exists"]), "claims[0].workloads",
     "kubernetes.pdb.exists is checked per workload: name the workloads this claim speaks about"),
    ("unknown-workload", _set("claims.0.workloads", ["shop/app"]), "claims[0].workloads[0]",
     "expected a workload of kubernetes.workloads [], got 'shop/app'"),
    ("bad-about", _set("claims.0.about", "clients"), "claims[0].about", "expected 'service' or 'components'"),
    ("known-risk-gates", _set("claims.2.gates", True), "claims[2]", "a known risk cannot gate"),
    ("no-claims", _set("claims", []), "claims", "at least 1 item"),
    ("unknown-top-level-field", _set("endpionts", []), "endpionts", "unknown field"),
    ("a-target-field", _set("target", "athens"), "target", "unknown field"),
    ("bad-endpoint-url", _set("endpoints.0.url", "not a url"), "endpoints[0].url", "expected an absolute URL"),
    ("bad-endpoint-role", _set("endpoints.0.role", "gateway"), "endpoints[0].role", "expected 'edge'"),
    ("profile-without-duration", _drop("load_profiles.smoke.duration_s"), "load_profiles.smoke.duration_s", "required field is missing"),
    ("profile-without-request-bound", _drop("load_profiles.smoke.max_requests"), "load_profiles.smoke.max_requests",
     "required field is missing"),
    ("profile-unknown-endpoint", _set("load_profiles.smoke.endpoint", "cdn"), "load_profiles.smoke.endpoint",
     "expected one of the endpoints ['edge']"),
    ("profile-zero-users", _set("load_profiles.smoke.users", 0), "load_profiles.smoke.users", "greater than or equal to 1"),
    ("slo-with-a-claim", _set("load_profiles.smoke.slos.0.claim", "sample-fast"), "load_profiles.smoke.slos[0].claim", "unknown field"),
    ("slo-metric-twice", _set("load_profiles.smoke.slos", [{"metric": "p95_ms", "max": 1}, {"metric": "p95_ms", "max": 2}]),
     "load_profiles.smoke.slos[1].metric", "a second p95_ms SLO: a profile has one SLO per metric"),
    ("slo-two-bounds", _set("load_profiles.smoke.slos.0.min", 1), "load_profiles.smoke.slos[0]", "exactly one of min or max"),
    ("slo-unknown-metric", _set("load_profiles.smoke.slos.0.metric", "p42"), "load_profiles.smoke.slos[0].metric", "expected 'rps'"),
    ("profile-during-not-a-name", _set("load_profiles.smoke.during", ["pod-loss", "Node Drain"]),
     "load_profiles.smoke.during[1]", "expected a lower-case name (letters, digits, dashes, dots), got 'Node Drain'"),
    ("waiver-unknown-claim", _set("waivers", [{"claim": "sample-nope", "reason": "r", "owner": "o", "expires": "2030-01-01"}]),
     "waivers[0].claim", "expected a claim id of this environment"),
    ("waiver-bad-date", _set("waivers", [{"claim": "sample-fast", "reason": "r", "owner": "o", "expires": "next week"}]),
     "waivers[0].expires", "expected a date as YYYY-MM-DD"),
    ("waiver-without-owner", _set("waivers", [{"claim": "sample-fast", "reason": "r", "expires": "2030-01-01"}]),
     "waivers[0].owner", "required field is missing"),
    ("chaos-negative-blast-radius", _set("chaos", {"allowed": True, "max_pods_per_action": -1}), "chaos.max_pods_per_action",
     "greater than or equal to 0"),
    ("hpa-min-above-max", _set("kubernetes", {"context": "c", "api_server": "https://127.0.0.1:6443",
                                              "workloads": [{"namespace": "castle", "name": "www", "hpa": {"min": 5, "max": 2}}]}),
     "kubernetes.workloads[0].hpa", "min (5) must not exceed max (2)"),
    ("aws-bad-region", _set("aws", {"region": "mars-1"}), "aws.region", "expected text matching"),
    ("window-of-errors", _set("chaos", {"steady_state_window": {"samples": 3, "max_errors": 3}}), "chaos.steady_state_window.max_errors",
     "must be below samples (3)"),
    ("database-literal-password", _set("database", {"host": "db", "name": "hub", "user": "hub", "password": "hunter22",
                                                    "failover": "local-tier"}),
     "database.password", "the variable that holds it (a secret never goes into an environment file)"),
    ("database-local-tier-elsewhere", _set("database", {"host": "db.example.internal", "name": "hub", "user": "hub",
                                                        "failover": "local-tier"}),
     "database", "failover local-tier drives the local stack's database tier: expected a loopback host"),
    ("database-rds-without-instance", _set("database", {"host": "db.example.internal", "name": "hub", "user": "hub"}),
     "database.failover", "rds fails over the instance of aws.rds_instances, which names none"),
    ("name-differs-from-file", _set("name", "other"), "name", "expected 'sample' (the file's name)"),
]


@pytest.mark.parametrize(("mutate", "field", "expectation"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_environment_is_one_clear_line(write_env, env_data, mutate, field, expectation):
    mutate(env_data)
    path = write_env(env_data, name="sample")
    with pytest.raises(ConfigError) as caught:
        load_environment("sample")
    message = str(caught.value)
    assert "\n" not in message, f"the error must be one line, got {message!r}"
    assert message.startswith(f"{path}: {field}: "), f"expected the file and the field {field!r} first, got {message!r}"
    assert expectation in message, f"expected {expectation!r} in {message!r}"


@pytest.mark.parametrize(("text", "expectation"), [
    ("name: sample\nclaims: [\n", "not valid YAML"),
    ("- just\n- a list\n", "expected a mapping of environment fields at the top level, got list"),
    ("", "expected a mapping of environment fields at the top level, got NoneType"),
    ("name: sample\n\tdescription: tabs\n", "not valid YAML"),
])
def test_malformed_file_is_one_clear_line(env_dir, text, expectation):
    (env_dir / "sample.yaml").write_text(text)
    with pytest.raises(ConfigError, match=re.escape(expectation)) as caught:
        load_environment("sample")
    assert str(caught.value).startswith(str(env_dir / "sample.yaml"))
    assert "\n" not in str(caught.value)


def test_unknown_environment_lists_the_known_ones(write_env, env_data):
    write_env(env_data)
    with pytest.raises(ConfigError, match=r"unknown environment 'prod': expected one of \['sample'\]"):
        load_environment("prod")


def test_missing_environments_folder(tmp_path):
    with pytest.raises(ConfigError, match="environments folder not found"):
        load_environment("local", tmp_path / "nowhere")


def test_undecodable_file(env_dir):
    (env_dir / "sample.yaml").write_bytes(b"name: \xff\xfe sample\n")
    with pytest.raises(ConfigError, match="cannot read the environment file"):
        load_environment("sample")


def test_parse_keeps_the_given_file_name():
    with pytest.raises(ConfigError, match=r"^elsewhere/x\.yaml: "):
        parse_environment("claims: 3\n", Path("elsewhere/x.yaml"))


def test_active_and_expired_waivers(write_env, env_data):
    import datetime as dt

    env_data["waivers"] = [{"claim": "sample-fast", "reason": "r", "owner": "o", "expires": "2030-01-31"}]
    write_env(env_data)
    env = load_environment("sample")
    assert env.active_waiver("sample-fast", dt.date(2030, 1, 31)) is not None
    assert env.active_waiver("sample-fast", dt.date(2030, 2, 1)) is None, "an expired waiver must not count"


def test_cache_placeholder_expands(write_env, env_data, monkeypatch, tmp_path):
    monkeypatch.setenv("GAUNTLET_CACHE_DIR", str(tmp_path / "cache"))
    env_data["endpoints"][0]["ca_bundle"] = "{cache}/ca/ca.pem"
    write_env(env_data)
    assert load_environment("sample").endpoints[0].ca_path == tmp_path / "cache" / "ca" / "ca.pem"


def test_paths_are_relative_to_the_environment_file_unless_absolute(write_env, env_data, env_dir, tmp_path):
    env_data["endpoints"][0]["ca_bundle"] = "certs/ca.pem"
    env_data["goproxy"] = {"endpoints": ["edge"], "probe_set": [{"module": "m", "version": "v1.0.0"}], "go_sum": "/abs/go.sum"}
    env_data["load_profiles"]["smoke"]["modules"] = "../shared/modules.txt"
    write_env(env_data)
    env = load_environment("sample")
    assert env.endpoints[0].ca_path == env_dir / "certs" / "ca.pem"
    assert env.goproxy.go_sum == "/abs/go.sum"
    assert env.load_profile("smoke").modules == str(tmp_path / "shared" / "modules.txt")


# The real environment files of the repository.


def test_every_bundled_environment_loads():
    names = [env.name for env in load_all(environment.paths.ROOT / "environments")]
    assert set(names) >= {"athens-production", "athens-staging", "castle", "artifacthub-production", "artifacthub-staging", "local"}


SHIPPED = environment.paths.ROOT / "environments"


@pytest.mark.parametrize("env", load_all(SHIPPED) if (SHIPPED / "local.yaml").exists() else [], ids=lambda e: e.name)
def test_every_claim_quotes_its_seed(env):
    """A shipped claim's quote must be its seed document's own words (whitespace folded)."""
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS}")
    for claim in env.claims:
        seed = SEEDS / claim.source.document
        assert seed.is_file(), f"{env.name}: claim {claim.id}: source.document {claim.source.document} is not a seed file"
        text = " ".join(seed.read_text(encoding="utf-8", errors="replace").split())
        quote = " ".join(claim.source.quote.split())
        assert quote in text, f"{env.name}: claim {claim.id}: quote not found verbatim in {claim.source.document}: {quote!r}"


def test_a_password_written_into_the_file_is_refused_without_being_repeated(write_env, env_data):
    env_data["database"] = {"host": "127.0.0.1", "name": "hub", "user": "hub", "password": "hunter22", "failover": "local-tier"}
    write_env(env_data, name="sample")
    with pytest.raises(ConfigError) as caught:
        load_environment("sample")
    assert "hunter22" not in str(caught.value) and str(caught.value).endswith("never goes into an environment file)")


GOPROXY = {"endpoints": ["edge"], "probe_set": [{"module": "m", "version": "v1.0.0"}]}


@pytest.mark.parametrize(("settings", "field", "expectation"), [
    ({"sumdb": ["sum.example.com+1234"]}, "goproxy.sumdb", "expected a database name or a verifier key <name>+<hash>+<key>"),
    ({"sumdb": ["sum.example.com+12345678+AAAA"]}, "goproxy.sumdb", "not an Ed25519 verifier key whose hash matches"),
    ({"repetition": {"samples": 0}}, "goproxy.repetition.samples", "greater than or equal to 1"),
    ({"repetition": {"concurrency": 65}}, "goproxy.repetition.concurrency", "less than or equal to 64"),
    ({"repetition": {"within_s": 0}}, "goproxy.repetition.within_s", "greater than 0"),
], ids=["sumdb-short-key", "sumdb-bad-key", "no-samples", "too-concurrent", "no-time"])
def test_goproxy_settings_are_one_clear_line(write_env, env_data, settings, field, expectation):
    env_data["goproxy"] = {**GOPROXY, **settings}
    path = write_env(env_data)
    with pytest.raises(ConfigError) as caught:
        load_environment("sample")
    assert str(caught.value).startswith(f"{path}: {field}: ") and expectation in str(caught.value), str(caught.value)


def test_goproxy_defaults_sample_a_little_and_use_the_declared_checksum_database(write_env, env_data):
    env_data["goproxy"] = {**GOPROXY, "sumdb": ["sum.golang.org"]}
    write_env(env_data)
    goproxy = load_environment("sample").goproxy
    assert (goproxy.repetition.samples, goproxy.repetition.concurrency, goproxy.repetition.within_s) == (8, 4, 10)
    assert goproxy.go_client_sumdb is True and goproxy.sumdb == ("sum.golang.org",)
