"""gauntlet: turns a deployment's written promises into claims and checks them."""

from gauntlet.environment import Claim, Environment, load_environment
from gauntlet.exceptions import ConfigError, GauntletError, SafetyRefusal, TargetError, TargetUnreachable
from gauntlet.ledger import CheckResult, ClaimVerdict, Verdict, judge

__all__ = [
    "CheckResult",
    "Claim",
    "ClaimVerdict",
    "ConfigError",
    "Environment",
    "GauntletError",
    "SafetyRefusal",
    "TargetError",
    "TargetUnreachable",
    "Verdict",
    "judge",
    "load_environment",
]
