"""The claims ledger: check results in, one verdict per claim out.

Rules (DESIGN.md, "Evidence -> verdict"):

- a claim with a failed or errored check is ``violated``, with the failing observations;
- else a claim with at least one passed check is ``verified``;
- else it is ``not-checked``, with why: every check skipped (their reasons), or no
  check ran at all. A claim whose checks were all skipped is never ``verified``.

A violated claim stays violated when a waiver covers it; the waiver only lets it
pass the gate until it expires. A known risk's violation is marked as expected.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import asdict, dataclass, field
from typing import Iterable, Literal, Mapping, Optional

from gauntlet.environment import Claim, Environment

Outcome = Literal["passed", "failed", "skipped", "error"]


class Verdict(str, enum.Enum):
    VERIFIED = "verified"
    VIOLATED = "violated"
    NOT_CHECKED = "not-checked"


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome and the claims it is evidence for."""

    id: str
    kind: Literal["conformance", "load", "chaos"]
    claims: tuple[str, ...]
    outcome: Outcome
    message: str = ""
    duration_s: float = 0.0
    details: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {**asdict(self), "claims": list(self.claims)}

    @classmethod
    def from_json(cls, data: dict) -> "CheckResult":
        return cls(**{**data, "claims": tuple(data["claims"])})


@dataclass(frozen=True)
class ClaimVerdict:
    """A claim's verdict for one run, with the evidence behind it."""

    claim: Claim
    verdict: Verdict
    evidence: tuple[str, ...]
    checks: tuple[str, ...] = ()
    waiver: Optional[dict] = None
    expected: bool = False

    def to_json(self) -> dict:
        return {
            "id": self.claim.id,
            "statement": self.claim.statement,
            "source": self.claim.source.model_dump(),
            "gates": self.claim.gates,
            "known_risk": self.claim.known_risk,
            "verdict": self.verdict.value,
            "evidence": list(self.evidence),
            "checks": list(self.checks),
            "waiver": self.waiver,
            "expected": self.expected,
        }


def _observation(result: CheckResult) -> str:
    text = result.message.strip() or result.outcome
    return f"{result.id}: {text}"


def judge_claim(claim: Claim, results: Iterable[CheckResult], env: Environment, today: dt.date, not_run: str) -> ClaimVerdict:
    """Apply the verdict rules to the results that are evidence for ``claim``."""
    mine = [r for r in results if claim.id in r.claims]
    bad = [r for r in mine if r.outcome in ("failed", "error")]
    passed = [r for r in mine if r.outcome == "passed"]
    skipped = [r for r in mine if r.outcome == "skipped"]
    checks = tuple(r.id for r in mine)
    if bad:
        waiver = _waiver(env, claim.id, today)
        evidence = tuple(_observation(r) for r in bad)
        return ClaimVerdict(claim, Verdict.VIOLATED, evidence, checks, waiver, expected=claim.known_risk)
    if passed:
        evidence = tuple(f"{r.id}: passed" for r in passed) + tuple(f"{r.id}: skipped ({r.message})" for r in skipped)
        return ClaimVerdict(claim, Verdict.VERIFIED, evidence, checks)
    if skipped:
        return ClaimVerdict(claim, Verdict.NOT_CHECKED, tuple(f"all checks skipped: {_observation(r)}" for r in skipped), checks)
    return ClaimVerdict(claim, Verdict.NOT_CHECKED, (not_run,), checks)


def _waiver(env: Environment, claim_id: str, today: dt.date) -> Optional[dict]:
    """The waiver on record for a claim: the active one, else the newest expired one (shown, not counted)."""
    waivers = sorted((w for w in env.waivers if w.claim == claim_id), key=lambda w: w.expires, reverse=True)
    if not waivers:
        return None
    chosen = env.active_waiver(claim_id, today) or waivers[0]
    return {**chosen.model_dump(mode="json"), "active": chosen.active(today)}


def judge(env: Environment, results: Iterable[CheckResult], today: Optional[dt.date] = None,
          ran: Iterable[str] = (), unavailable: Optional[Mapping[str, str]] = None) -> list[ClaimVerdict]:
    """One verdict per claim of ``env``, in the environment file's order.

    ``ran`` names the evidence sources this run executed (``conformance:goproxy``) and
    ``unavailable`` why others could not run, so a claim without results says why.
    """
    results = list(results)
    ran, unavailable = set(ran), dict(unavailable or {})
    today = today or dt.date.today()
    return [judge_claim(claim, results, env, today, _why_not_run(claim, ran, unavailable)) for claim in env.claims]


def _why_not_run(claim: Claim, ran: set[str], unavailable: dict[str, str]) -> str:
    if not claim.evidence:
        return "no check provides evidence for this claim yet"
    reasons = [f"{ref}: {unavailable[ref]}" for ref in claim.evidence if ref in unavailable]
    executed = [ref for ref in claim.evidence if ref in ran]
    if executed:
        reasons.append(f"no check in {', '.join(executed)} is evidence for this claim yet")
    return "; ".join(reasons) or f"its evidence ({', '.join(claim.evidence)}) was not run in this run"


def waived(claim: dict) -> bool:
    """A violated claim that an active waiver lets pass."""
    return claim["verdict"] == Verdict.VIOLATED.value and bool(claim["waiver"]) and claim["waiver"]["active"]


def passes_gate(claim: dict) -> bool:
    return claim["verdict"] == Verdict.VERIFIED.value or waived(claim)


def unexpected_violation(claims: Iterable[dict]) -> bool:
    """Any claim violated that is neither a known risk nor waived."""
    return any(c["verdict"] == Verdict.VIOLATED.value and not c["expected"] and not waived(c) for c in claims)


def gate_exit_code(claims: Iterable[dict]) -> int:
    """The CI contract: 0 every gating claim verified (or waived), 1 any violated, 3 any not checked."""
    blocking = [c for c in claims if c["gates"] and not passes_gate(c)]
    if any(c["verdict"] == Verdict.VIOLATED.value for c in blocking):
        return 1
    return 3 if blocking else 0
