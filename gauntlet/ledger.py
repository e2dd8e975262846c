"""The claims ledger: check results in, one verdict per claim out.

A result is evidence for the claims it was attributed to when it ran: those whose
``evidence`` names its check kind (and, for a per-workload check, that name its
workload). The rules, in the order they apply (README, "Verdicts"):

1. **Component findings.** A result that observes one component (a replica, a pod)
   and could not reach it (``cause: unreachable``: the component is down) is a
   finding, shown with the claim, neither for nor against it; a claim that is
   ``about: components`` promises every component, so for it a down component
   violates. A result that reached a component and found it wrong counts as usual.
   A check may also report a finding beside its outcome (``details["finding"]``:
   severity and observation, e.g. no OCSP staple where none is required): shown
   with the claim, it changes no verdict.
2. **Violated**: a counted result failed or errored, with the failing observations.
   A waiver lets a violation pass the gate until it expires; a known risk's violation
   is marked as expected.
3. **Required evidence**: a claim's ``required`` pattern with no counted result that
   passed or failed (it did not run, was skipped, or was not evidence: a fault never
   injected, a fault-window load run on its own) leaves the claim ``not-checked`` with
   what happened to that evidence, whatever else passed.
4. **Clients prove service claims**: a claim about the service whose passing results
   all observe components is ``not-checked``: what clients see is proven only by what
   clients see.
5. **Verified**: at least one counted result passed. Its coverage says, per check kind,
   which passed, failed, were skipped (and why) or did not run; a verified claim with
   any kind not passed is *partial*, and an environment can require full coverage of
   its gating claims (``gate.full_coverage``).
6. **Not checked** otherwise: every result skipped (their reasons), or none at all
   (not run in this run, unavailable and why, or no check of it ran). A claim whose
   checks were all skipped is never verified.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Literal

from gauntlet.catalogue import catalogue, matches
from gauntlet.environment import Claim, Environment

Outcome = Literal["passed", "failed", "skipped", "error"]
Evidence = Literal["conformance", "load", "chaos"]
Scope = Literal["service", "component"]
UNREACHABLE = "unreachable"
#: The detail a check reports a finding in (``record_property(FINDING, {"severity": ..., "observation": ...})``).
FINDING = "finding"
Severity = Literal["info", "low", "medium", "high"]
#: Results an evidence source that did not reach the target turns into (shown, not counted).
NOT_EVIDENCE = "not evidence"


class Verdict(enum.StrEnum):
    VERIFIED = "verified"
    VIOLATED = "violated"
    NOT_CHECKED = "not-checked"


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome, the kinds it implements, what it observed and the claims it is evidence for.

    ``scope``/``subject``: the service as clients reach it (an edge, a load balancer, a
    workload as a whole) or one component (a replica, a pod), and which. ``cause`` is
    ``unreachable`` when the check got no answer from its subject at all.
    """

    id: str
    evidence: Evidence
    claims: tuple[str, ...]
    outcome: Outcome
    message: str = ""
    duration_s: float = 0.0
    details: dict = field(default_factory=dict)
    kinds: tuple[str, ...] = ()
    scope: Scope = "service"
    subject: str = ""
    cause: str = ""

    def to_json(self) -> dict:
        return {**asdict(self), "claims": list(self.claims), "kinds": list(self.kinds)}

    @classmethod
    def from_json(cls, data: dict) -> CheckResult:
        return cls(**{**data, "claims": tuple(data["claims"]), "kinds": tuple(data.get("kinds", ()))})

    @property
    def counts(self) -> bool:
        """Passed, failed or errored: evidence either way (a skip proves nothing)."""
        return self.outcome != "skipped"

    def is_component_down(self) -> bool:
        return self.scope == "component" and self.cause == UNREACHABLE and self.outcome in ("failed", "error")


@dataclass(frozen=True)
class ClaimVerdict:
    """A claim's verdict for one run, the evidence behind it, its coverage and component findings."""

    claim: Claim
    verdict: Verdict
    evidence: tuple[str, ...]
    checks: tuple[str, ...] = ()
    waiver: dict | None = None
    expected: bool = False
    coverage: dict = field(default_factory=dict)
    findings: tuple[dict, ...] = ()

    @property
    def partial(self) -> bool:
        return self.verdict is Verdict.VERIFIED and bool(self.coverage.get("partial"))

    def to_json(self) -> dict:
        return {
            "id": self.claim.id,
            "statement": self.claim.statement,
            "source": self.claim.source.model_dump(),
            "gates": self.claim.gates,
            "known_risk": self.claim.known_risk,
            "verdict": self.verdict.value,
            "partial": self.partial,
            "evidence": list(self.evidence),
            "checks": list(self.checks),
            "coverage": self.coverage,
            "findings": list(self.findings),
            "waiver": self.waiver,
            "expected": self.expected,
        }


def _observation(result: CheckResult) -> str:
    text = result.message.strip() or result.outcome
    return f"{result.id}: {text}"


def _findings(down: list[CheckResult]) -> tuple[dict, ...]:
    """One finding per component that was down, with how many checks could not reach it."""
    by_subject: dict[str, list[CheckResult]] = {}
    for result in down:
        by_subject.setdefault(result.subject or result.id, []).append(result)
    return tuple({"subject": subject, "scope": "component", "down": True, "checks": len(items),
                  "observation": items[0].message.strip(), "expected": bool(items[0].details.get("expected_down"))}
                 for subject, items in sorted(by_subject.items()))


def _reported(results: list[CheckResult]) -> tuple[dict, ...]:
    """The findings checks reported beside their outcome, once per observation."""
    out: dict[str, dict] = {}
    for result in results:
        found = result.details.get(FINDING)
        if isinstance(found, dict) and found.get("observation"):
            out.setdefault(found["observation"], {"subject": result.subject or result.id, "scope": result.scope,
                                                  "down": False, "severity": found.get("severity", "info"),
                                                  "observation": found["observation"], "checks": 1, "expected": False})
    return tuple(out.values())


def describe_finding(finding: dict) -> str:
    """One line for a finding: a component down, or a reported finding with its severity."""
    if finding.get("down", True):
        return f"component {finding['subject']} down: {finding['observation']}"
    return f"finding ({finding['severity']}): {finding['observation']}"


def _kind_states(claim: Claim, counted: list[CheckResult]) -> dict[str, str]:
    """Each concrete kind the claim names -> passed | failed | skipped | not-run in this run."""
    states: dict[str, str] = {}
    for pattern in claim.evidence:
        _, _, profile = pattern.partition("@")
        for kind in catalogue().matching(pattern):
            key = f"{kind.id}@{profile}" if profile else kind.id
            outcomes = {r.outcome for r in counted if kind.id in r.kinds and (not profile or r.details.get("profile") == profile)}
            states[key] = ("failed" if outcomes & {"failed", "error"} else "passed" if "passed" in outcomes
                           else "skipped" if outcomes else "not-run")
    return states


def _coverage(claim: Claim, counted: list[CheckResult], ran: set[str], unavailable: Mapping[str, str]) -> dict:
    kinds = _kind_states(claim, counted)
    sources = catalogue().sources(claim.evidence)
    skipped = list(dict.fromkeys(_observation(r) for r in counted if r.outcome == "skipped"))
    return {
        "partial": any(state != "passed" for state in kinds.values()),
        "kinds": kinds,
        "checks": {o: sum(r.outcome == o for r in counted) for o in ("passed", "failed", "error", "skipped")},
        "skipped": skipped,
        "sources": {"ran": [s for s in sources if s in ran],
                    "unavailable": {s: unavailable[s] for s in sources if s in unavailable},
                    "not_run": [s for s in sources if s not in ran and s not in unavailable]},
    }


def _required_missing(claim: Claim, counted: list[CheckResult], coverage: dict) -> str | None:
    """Why a required pattern proved nothing in this run, or None when each has a passed or failed result."""
    for pattern in claim.required:
        kind = pattern.partition("@")[0]
        mine = [r for r in counted if any(matches(pattern, k) for k in r.kinds)]
        if any(r.counts for r in mine):
            continue
        if mine:
            what = "; ".join(_observation(r) for r in mine)
        else:
            sources = catalogue().sources([pattern])
            gone = {s: w for s, w in coverage["sources"]["unavailable"].items() if s in sources}
            what = "; ".join(f"{s}: {w}" for s, w in gone.items()) or f"{', '.join(sources) or kind} did not run in this run"
        return f"required evidence {pattern} proved nothing: {what}"
    return None


def judge_claim(claim: Claim, results: Iterable[CheckResult], env: Environment, today: dt.date,
                ran: set[str], unavailable: Mapping[str, str]) -> ClaimVerdict:
    """Apply the verdict rules (module docstring) to the results attributed to ``claim``."""
    mine = [r for r in results if claim.id in r.claims]
    checks = tuple(r.id for r in mine)
    down = [r for r in mine if r.is_component_down() and claim.about == "service"]
    counted = [r for r in mine if r not in down]
    coverage = _coverage(claim, counted, ran, unavailable)
    findings = _findings(down) + _reported(counted)

    def verdict(v: Verdict, evidence: Iterable[str], **extra: object) -> ClaimVerdict:
        return ClaimVerdict(claim, v, tuple(evidence), checks, coverage=coverage, findings=findings, **extra)  # type: ignore[arg-type]

    bad = [r for r in counted if r.outcome in ("failed", "error")]
    if bad:
        return verdict(Verdict.VIOLATED, map(_observation, bad), waiver=_waiver(env, claim.id, today), expected=claim.known_risk)
    missing = _required_missing(claim, counted, coverage)
    if missing:
        return verdict(Verdict.NOT_CHECKED, [missing])
    passed = [r for r in counted if r.outcome == "passed"]
    if passed and claim.about == "service" and all(r.scope == "component" for r in passed):
        subjects = ", ".join(sorted({r.subject for r in passed}))
        return verdict(Verdict.NOT_CHECKED, [f"only components were observed ({subjects}): a claim about what clients "
                                             "see is verified only by checks of the service as clients reach it"])
    if passed:
        lines = [f"{r.id}: passed" for r in passed] + [f"{line} (skipped)" for line in coverage["skipped"]]
        return verdict(Verdict.VERIFIED, lines)
    if counted:
        return verdict(Verdict.NOT_CHECKED, [f"all checks skipped: {line}" for line in coverage["skipped"]])
    return verdict(Verdict.NOT_CHECKED, [_why_not_run(claim, coverage, bool(down))])


def _waiver(env: Environment, claim_id: str, today: dt.date) -> dict | None:
    """The waiver on record for a claim: the active one, else the newest expired one (shown, not counted)."""
    waivers = sorted((w for w in env.waivers if w.claim == claim_id), key=lambda w: w.expires, reverse=True)
    if not waivers:
        return None
    chosen = env.active_waiver(claim_id, today) or waivers[0]
    return {**chosen.model_dump(mode="json"), "active": chosen.active(today)}


def _why_not_run(claim: Claim, coverage: dict, found_down: bool) -> str:
    if found_down:
        return "every check of it observed a component that was down (see the findings)"
    sources = coverage["sources"]
    reasons = [f"{s}: {why}" for s, why in sources["unavailable"].items()]
    if sources["ran"]:
        reasons.append(f"no check of {', '.join(sources['ran'])} was attributed to it")
    if sources["not_run"]:
        reasons.append(f"{', '.join(sources['not_run'])} did not run in this run")
    return "; ".join(reasons) or "no check provides evidence for this claim"


def judge(env: Environment, results: Iterable[CheckResult], today: dt.date | None = None,
          ran: Iterable[str] = (), unavailable: Mapping[str, str] | None = None) -> list[ClaimVerdict]:
    """One verdict per claim of ``env``, in the environment file's order.

    ``ran`` names the evidence sources this run executed (``conformance:goproxy``) and
    ``unavailable`` why others could not run, so a claim without results says why.
    """
    results = list(results)
    today = today or dt.date.today()
    return [judge_claim(claim, results, env, today, set(ran), dict(unavailable or {})) for claim in env.claims]


def waived(claim: dict) -> bool:
    """A violated claim that an active waiver lets pass."""
    return claim["verdict"] == Verdict.VIOLATED.value and bool(claim["waiver"]) and claim["waiver"]["active"]


def passes_gate(claim: dict, full_coverage: bool = False) -> bool:
    if full_coverage and claim.get("partial"):
        return False
    return claim["verdict"] == Verdict.VERIFIED.value or waived(claim)


def unexpected_violation(claims: Iterable[dict]) -> bool:
    """Any claim violated that is neither a known risk nor waived."""
    return any(c["verdict"] == Verdict.VIOLATED.value and not c["expected"] and not waived(c) for c in claims)


def gate_exit_code(claims: Iterable[dict], full_coverage: bool = False) -> int:
    """The CI contract: 0 every gating claim verified (or waived), 1 any violated, 3 any not checked
    (or, with ``full_coverage``, verified only in part)."""
    blocking = [c for c in claims if c["gates"] and not passes_gate(c, full_coverage)]
    if any(c["verdict"] == Verdict.VIOLATED.value for c in blocking):
        return 1
    return 3 if blocking else 0


def run_exit_code(claims: Iterable[dict]) -> int:
    """``conformance``, ``load`` and ``chaos``: 1 a claim violated unexpectedly; 3 a gating claim this run
    produced evidence for is still not verified (its required evidence missing, its checks here all
    skipped or not evidence); else 0."""
    claims = list(claims)
    if unexpected_violation(claims):
        return 1
    return 3 if any(c["gates"] and c["checks"] and c["verdict"] == Verdict.NOT_CHECKED.value for c in claims) else 0
