"""What one load run needs, resolved from an environment and one of its load profiles.

The harness (to build Locust's command line) and the locustfiles (to set up
users, the shape and the guard) resolve the same :class:`LoadParams`, so a
plain ``locust -f load/goproxy.py --gauntlet-env local --gauntlet-profile smoke``
behaves like ``gauntlet load local --profile smoke``. Pure Python: no Locust,
no network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from gauntlet.environment import BODY_BYTES, BodyKind, Environment, LoadProfile, UserKind
from gauntlet.exceptions import ConfigError


@dataclass(frozen=True)
class StopParams:
    error_rate: float | None
    p95_ms: float | None
    for_s: int


@dataclass(frozen=True)
class LoadParams:
    """Everything a Locust process needs for one profile; JSON-serialisable."""

    environment: str
    profile: str
    user: UserKind
    host: str
    ca_bundle: str | None
    server_name: str | None
    shape: str
    users: int
    spawn_rate: float
    duration_s: int
    max_requests: int
    steps: int
    wait_s: tuple[float, float]
    stop: StopParams
    modules: tuple[tuple[str, str], ...] = ()
    cold_ratio: float = 0.0
    paths: tuple[str, ...] = ("/",)
    queries: tuple[str, ...] = ()
    slos: tuple[dict, ...] = field(default_factory=tuple)
    timeout_s: float = 10.0
    deadline_s: float = 30.0
    body_bytes: dict[BodyKind, int] = field(default_factory=lambda: dict(BODY_BYTES))

    def to_json(self) -> dict:
        data = asdict(self)
        data["modules"] = [list(m) for m in self.modules]
        return data


def read_module_set(file: Path) -> tuple[tuple[str, str], ...]:
    """``module version`` per line, ``#`` comments and blank lines ignored; order kept (most popular first)."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the module set ({exc})") from exc
    out: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].startswith("v"):
            raise ConfigError(f"{file}:{number}: expected 'module version' (e.g. 'github.com/pkg/errors v0.9.1'), got {line!r}")
        out.append((parts[0], parts[1]))
    if not out:
        raise ConfigError(f"{file}: the module set is empty")
    return tuple(out)


def module_set(env: Environment, name: str, profile: LoadProfile) -> tuple[tuple[str, str], ...]:
    if profile.modules is not None:
        return read_module_set(Path(profile.modules))
    if env.goproxy is not None:
        return tuple((m.module, m.version) for m in env.goproxy.probe_set)
    raise ConfigError(f"environment {env.name!r}: load_profiles.{name}.modules: a goproxy profile needs a module set: "
                      "set modules (a module set file) or the environment's goproxy.probe_set")


def resolve(env: Environment, name: str) -> LoadParams:
    """The parameters of profile ``name`` of ``env``; a missing module set or CA bundle is a ConfigError."""
    profile = env.load_profile(name)
    endpoint = env.endpoint(profile.endpoint)
    host = str(endpoint.url).rstrip("/")
    ca = endpoint.ca_path if host.startswith("https:") else None
    if ca is not None and not ca.is_file():
        raise ConfigError(f"environment {env.name!r}: endpoint {endpoint.name!r}: CA bundle {ca} not found "
                          "(for the local stack: gauntlet local up creates it)")
    return LoadParams(
        environment=env.name,
        profile=name,
        user=profile.user,
        host=host,
        ca_bundle=str(ca) if ca else None,
        server_name=endpoint.server_name,
        shape=profile.shape,
        users=profile.users,
        spawn_rate=profile.spawn_rate,
        duration_s=profile.duration_s,
        max_requests=profile.max_requests,
        steps=profile.steps,
        wait_s=profile.wait_s,
        stop=StopParams(profile.stop.error_rate, profile.stop.p95_ms, profile.stop.for_s),
        modules=module_set(env, name, profile) if profile.user == "goproxy" else (),
        cold_ratio=profile.cold_ratio if profile.user == "goproxy" else 0.0,
        paths=profile.paths or ("/",),
        queries=profile.queries,
        slos=tuple(s.model_dump() for s in profile.slos),
        timeout_s=endpoint.timeout_s,
        deadline_s=endpoint.request_deadline_s,
        body_bytes={kind: env.limits.body_cap(kind) for kind in BODY_BYTES},
    )


def default_profile(env: Environment, user: UserKind) -> str:
    """The first profile of ``env`` for this kind of user (plain ``locust`` without --gauntlet-profile)."""
    for name, profile in env.load_profiles.items():
        if profile.user == user:
            return name
    raise ConfigError(f"environment {env.name!r} has no load profile for a {user} user: "
                      f"expected one of {sorted(env.load_profiles)} with user: {user}")
