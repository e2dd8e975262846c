"""The database tier: PostgreSQL (Debian's packages) as a Multi-AZ database instance, on loopback.

::

    clients ──> endpoint  HAProxy 127.0.0.1:5433 (stats :5439)      ~ the RDS endpoint (its DNS name)
                  ├──> db-a  PostgreSQL 127.0.0.1:5441 ┐ primary and hot standby, synchronous
                  └──> db-b  PostgreSQL 127.0.0.1:5442 ┘ streaming replication (either may be primary)

The endpoint's health check speaks PostgreSQL's protocol and admits only the node where
``pg_is_in_recovery()`` is false (``fixtures/local/db-endpoint.haproxy.cfg.j2``), so the one address
clients use follows the primary. The application role ``hub`` logs in with a password kept in a libpq
password file (:func:`passfile`, the ``database.passfile`` of ``environments/local.yaml``).

A failover as RDS does it (:func:`fail_over`, the ``artifacthub-db-failover`` action on the local stack):
the primary's zone goes dark (every process of its server frozen with SIGSTOP: connections stay open,
nothing answers, the fence that keeps it from taking writes), the standby is promoted and, with no
standby of its own left, acknowledges commits on its own disk until one is back (RDS likewise serves
from the new primary while it builds a new standby); the endpoint's check finds the new primary within
a second. Connections open to the fenced node are not moved, as with RDS's DNS flip: the client's pool
must notice them (health checks, timeouts). :func:`up` heals what a failover left, and is its rollback:
the fenced node is killed and rebuilt with pg_basebackup as the standby of the new primary.

PostgreSQL refuses to run as root: as root its processes run as Debian's ``postgres`` user and its
files live under that user's home (``/var/lib/postgresql/gauntlet``; root's home is closed to others),
otherwise under ``state_dir()/db/data``. Servers start with ``pg_ctl`` (PostgreSQL's own launcher) so
that a postmaster killed by a failover is reaped by init, never left a zombie of whoever started it
holding its lock file. HAProxy runs like the GOPROXY tier's (:mod:`gauntlet.local.processes`).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import struct
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import jinja2
import psycopg
from psycopg import sql

from gauntlet.exceptions import LocalStackError, WaitTimeout
from gauntlet.local import processes, tier_state
from gauntlet.local.faults import FAULTS
from gauntlet.local.install import HAPROXY, apt_install
from gauntlet.paths import ROOT, state_dir
from gauntlet.waiting import until

HOST = "127.0.0.1"
#: listener -> loopback port; ``environments/local.yaml`` names the endpoint's.
PORTS: dict[str, int] = {"endpoint": 5433, "endpoint stats": 5439, "db-a": 5441, "db-b": 5442}
NODES = ("db-a", "db-b")
DATABASE, USER, CHECK_USER = "artifacthub", "hub", "gauntlet_check"
#: How long the db-async-replication standby is held behind before the failover.
ASYNC_LAG_S = 2.0
APT_PACKAGES = ("postgresql", "haproxy")
_TEMPLATES = ROOT / "fixtures" / "local"
_HEALTHY_WITHIN_S = 30.0
_CHECK_INTERVAL_MS, _CHECK_TIMEOUT_MS = 250, 1000  # a healthy node answers late on a busy machine
_PEER = {"db-a": "db-b", "db-b": "db-a"}

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# --------------------------------------------------------------------------- places


def server_bin() -> Path:
    """The newest PostgreSQL server binaries Debian installed (``/usr/lib/postgresql/<major>/bin``)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise LocalStackError("PostgreSQL is not installed: run `make setup` (apt-get install postgresql)")
    return found[-1].parent


def install_packages(progress: Progress = print) -> None:
    """Debian's postgresql and haproxy, their services never started (idempotent)."""
    if not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")) or not HAPROXY.is_file():
        apt_install(APT_PACKAGES, APT_PACKAGES, progress)


def tier_dir() -> Path:
    return state_dir() / "db"


def _server_user() -> str | None:
    return "postgres" if os.geteuid() == 0 else None


def data_root() -> Path:
    """Where the servers' files live: the server user must reach them."""
    user = _server_user()
    try:
        return Path(pwd.getpwnam(user).pw_dir) / "gauntlet" if user else tier_dir() / "data"
    except KeyError:  # no postgres user: PostgreSQL is not installed, nothing runs
        return tier_dir() / "data"


def _data_dir(node: str) -> Path:
    return data_root() / node


def _socket_dir() -> Path:
    return data_root() / "sock"


def passfile() -> Path:
    """The libpq password file of the application role (mode 0600)."""
    return tier_dir() / "pgpass"


def _log(name: str) -> Path:
    return tier_dir() / "logs" / f"{name}.log"


def _endpoint_conf() -> Path:
    return tier_dir() / "conf" / "endpoint.cfg"


def _endpoint_pid_file() -> Path:
    return tier_dir() / "run" / "endpoint.pid"


def _state_file() -> Path:
    return tier_dir() / "run" / "state.json"


def address(listener: str) -> str:
    return f"{HOST}:{PORTS[listener]}"


# --------------------------------------------------------------------------- rendering


def _check_packets() -> dict[str, Any]:
    """The endpoint check's PostgreSQL messages: StartupMessage, Query, and the answer's length."""
    params = f"user\0{CHECK_USER}\0database\0postgres\0application_name\0endpoint-check\0\0".encode()
    startup = struct.pack("!ii", 8 + len(params), 196608) + params
    sql = b"SELECT pg_is_in_recovery()\0"
    query = b"Q" + struct.pack("!i", 4 + len(sql)) + sql
    column = b"pg_is_in_recovery\0"
    # RowDescription (one bool column) + DataRow ('f' or 't') + CommandComplete "SELECT 1" + ReadyForQuery
    answer = (1 + 4 + 2 + len(column) + 18) + (1 + 4 + 2 + 4 + 1) + (1 + 4 + len(b"SELECT 1\0")) + (1 + 4 + 1)
    return {"startup_hex": startup.hex(), "query_hex": query.hex(), "answer_length": answer}


def _jinja() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_endpoint(faults: Sequence[str] = ()) -> str:
    """HAProxy's configuration of the endpoint."""
    return _jinja().get_template("db-endpoint.haproxy.cfg.j2").render(
        faults=sorted(faults), endpoint_address=address("endpoint"), stats_address=address("endpoint stats"),
        nodes=[(n, address(n)) for n in NODES], check_interval_ms=_CHECK_INTERVAL_MS,
        check_timeout_ms=_CHECK_TIMEOUT_MS, **_check_packets())


def render_node(node: str, faults: Sequence[str], *, synchronous: bool, receiving: bool = True) -> dict[str, str]:
    """``postgresql.conf`` and ``pg_hba.conf`` of one node."""
    env = _jinja()
    why = "db-no-standby" if "db-no-standby" in faults else "its standby is being rebuilt"
    conf = env.get_template("postgresql.conf.j2").render(
        name=node, faults=sorted(faults), port=PORTS[node], peer_port=PORTS[_PEER[node]], socket_dir=_socket_dir(),
        synchronous=synchronous, receiving=receiving, why_not_synchronous=why)
    hba = env.get_template("pg_hba.conf.j2").render(name=node, database=DATABASE, user=USER)
    return {"postgresql.conf": conf, "pg_hba.conf": hba}


def _synchronous(faults: Sequence[str]) -> bool:
    return "db-async-replication" not in faults and "db-no-standby" not in faults


# --------------------------------------------------------------------------- processes


def _as_server_user() -> dict[str, Any]:
    """subprocess arguments that run a PostgreSQL tool as the server's user (none when that is us)."""
    user = _server_user()
    return {"user": user, "group": user, "extra_groups": []} if user else {}


def _run(argv: list[str], what: str, timeout: float = 60.0, log: Path | None = None) -> None:
    """Run a PostgreSQL tool as the server's user; its output appended to ``log`` (else kept for the error)."""
    ids = _as_server_user()
    if log is not None:
        with log.open("ab") as out:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, timeout=timeout, **ids)
        detail = processes.tail(log, 5)
    else:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, **ids)
        proc, detail = done, (done.stderr or done.stdout).strip()[-600:]
    if proc.returncode != 0:
        raise LocalStackError(f"{what} failed (exit {proc.returncode}): {detail}")


def _chown(path: Path) -> None:
    user = _server_user()
    if user:
        shutil.chown(path, user, user)


def _write(path: Path, text: str, mode: int = 0o600) -> None:
    path.write_text(text)
    path.chmod(mode)
    _chown(path)


def postmaster_pid(node: str) -> int | None:
    """The pid of the node's postmaster, if it runs (``postmaster.pid``, checked against its command line)."""
    try:
        pid = int((_data_dir(node) / "postmaster.pid").read_text().split("\n", 1)[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return None
    return pid if str(_data_dir(node)) in cmdline else None


def _server_pids(postmaster: int) -> list[int]:
    """The postmaster and its children (each of which PostgreSQL puts in a process group of its own)."""
    found = [postmaster]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def frozen(node: str) -> bool:
    """The node's postmaster is stopped by a signal (its zone went dark)."""
    pid = postmaster_pid(node)
    if pid is None:
        return False
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) == "T"
    except (OSError, IndexError):
        return False


def _signal_server(node: str, sig: signal.Signals) -> int | None:
    pid = postmaster_pid(node)
    if pid is None:
        return None
    for each in _server_pids(pid):  # the postmaster first: no new child while the others are signalled
        try:
            os.kill(each, sig)
        except ProcessLookupError:
            continue
    return pid


def _kill(node: str) -> None:
    """SIGKILL the node's server, every process of it, and wait until it is gone."""
    pid = _signal_server(node, signal.SIGKILL)
    with suppress(WaitTimeout):
        until(lambda: pid is None or not Path(f"/proc/{pid}").exists(), 10, 0.02, f"{node}'s server to be gone")


def _start_node(node: str) -> None:
    _run([str(server_bin() / "pg_ctl"), "start", "-w", "-t", "30", "-D", str(_data_dir(node))], f"starting {node}",
         log=_log(node))


def _stop_node(node: str) -> None:
    if postmaster_pid(node) is None:
        return
    if frozen(node):
        _kill(node)
        return
    try:
        _run([str(server_bin() / "pg_ctl"), "stop", "-w", "-t", "10", "-m", "fast", "-D", str(_data_dir(node))],
             f"stopping {node}", log=_log(node))
    except (LocalStackError, subprocess.TimeoutExpired):
        _kill(node)


def admin(node: str, autocommit: bool = True) -> psycopg.Connection:
    """A superuser connection to one node over its Unix socket (trust, never over TCP)."""
    return psycopg.connect(host=str(_socket_dir()), port=PORTS[node], user="postgres", dbname="postgres",
                           autocommit=autocommit, connect_timeout=3, application_name="gauntlet-db-tier")


def _in_recovery(node: str) -> bool | None:
    """Whether the node is a standby (None: it does not answer)."""
    if postmaster_pid(node) is None or frozen(node):
        return None
    try:
        with admin(node) as conn:
            return bool(conn.execute("SELECT pg_is_in_recovery()").fetchone()[0])  # type: ignore[index]
    except psycopg.Error:
        return None


def _configure(node: str, faults: Sequence[str], *, synchronous: bool, receiving: bool = True) -> None:
    for name, text in render_node(node, faults, synchronous=synchronous, receiving=receiving).items():
        _write(_data_dir(node) / name, text)


def _reload(node: str) -> None:
    with admin(node) as conn:
        conn.execute("SELECT pg_reload_conf()")


# --------------------------------------------------------------------------- bring-up and healing


def _fresh(faults: Sequence[str], progress: Progress) -> str:
    """A new primary db-a with the application's role and database; its name."""
    for node in NODES:
        shutil.rmtree(_data_dir(node), ignore_errors=True)
    node = "db-a"
    progress(f"initialising {node} (initdb)")
    _run([str(server_bin() / "initdb"), "-D", str(_data_dir(node)), "-U", "postgres", "--auth=trust",
          "-E", "UTF8", "--locale=C.UTF-8"], f"initdb of {node}")
    _configure(node, faults, synchronous=False)
    progress(f"starting {node} on {address(node)} (primary)")
    _start_node(node)
    password = secrets.token_urlsafe(24)
    with admin(node) as conn:
        conn.execute(f"CREATE ROLE {CHECK_USER} LOGIN")
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(USER), sql.Literal(password)))
        conn.execute(f"CREATE DATABASE {DATABASE} OWNER {USER}")
    passfile().write_text(f"{HOST}:{PORTS['endpoint']}:{DATABASE}:{USER}:{password}\n")
    passfile().chmod(0o600)
    return node


def _rebuild_standby(node: str, primary: str, faults: Sequence[str], progress: Progress) -> None:
    """Make ``node`` a hot standby of ``primary``: killed if it still runs, copied anew with pg_basebackup."""
    _kill(node)
    shutil.rmtree(_data_dir(node), ignore_errors=True)
    progress(f"rebuilding {node} as the standby of {primary} (pg_basebackup)")
    _run([str(server_bin() / "pg_basebackup"), "-h", str(_socket_dir()), "-p", str(PORTS[primary]), "-U", "postgres",
          "-D", str(_data_dir(node)), "-X", "stream", "-c", "fast"], f"pg_basebackup of {node} from {primary}")
    _write(_data_dir(node) / "postgresql.auto.conf", "")
    _write(_data_dir(node) / "standby.signal", "")
    _configure(node, faults, synchronous=False)
    progress(f"starting {node} on {address(node)} (standby)")
    _start_node(node)


def _timeline(node: str) -> tuple[int, str]:
    """The node's latest checkpoint (timeline, location) as ``pg_controldata`` reads it from its stopped data."""
    ids = _as_server_user()
    out = subprocess.run([str(server_bin() / "pg_controldata"), "-D", str(_data_dir(node))], capture_output=True,
                         text=True, timeout=30, env={**os.environ, "LC_ALL": "C"}, **ids).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    location = fields.get("Latest checkpoint location", "0/0").strip()
    high, _, low = location.partition("/")
    return int(fields.get("Latest checkpoint's TimeLineID", "0").strip() or 0), f"{int(high, 16):08x}{int(low or '0', 16):08x}"


def _roles() -> tuple[str | None, str | None]:
    """(primary, standby) among the nodes that run and answer."""
    seen = {node: _in_recovery(node) for node in NODES}
    primary = next((n for n, recovering in seen.items() if recovering is False), None)
    standby = next((n for n, recovering in seen.items() if recovering is True), None)
    return primary, standby


def _heal_nodes(faults: Sequence[str], progress: Progress) -> None:
    """One primary and (unless db-no-standby) its standby, replicating as the fault profiles say."""
    for node in NODES:
        if frozen(node):
            progress(f"{node} was fenced (frozen): killing it")
            _kill(node)
    primary, standby = _roles()
    if primary is None and standby is not None:
        progress(f"no primary: promoting {standby}")
        with admin(standby) as conn:
            conn.execute("SELECT pg_promote(wait => true, wait_seconds => 30)")
        primary, standby = standby, None
    if primary is None:
        stopped = [n for n in NODES if (_data_dir(n) / "PG_VERSION").is_file() and not (_data_dir(n) / "standby.signal").exists()]
        if stopped and tier_state.read(_state_file()) is not None:  # a primary that was killed (db-no-standby's failover): restart it
            primary = max(stopped, key=_timeline)  # after a failover both may look like primaries: the newer one
            progress(f"restarting {primary} (primary)")
            _configure(primary, faults, synchronous=False)
            _start_node(primary)
        else:
            primary = _fresh(faults, progress)
    other = _PEER[primary]
    if "db-no-standby" in faults:
        _stop_node(other)
    elif standby != other:
        _rebuild_standby(other, primary, faults, progress)
    else:
        _configure(other, faults, synchronous=False)
        _reload(other)
    _configure(primary, faults, synchronous=_synchronous(faults))
    _reload(primary)


def up(faults: Sequence[str] = (), progress: Progress = print) -> dict:
    """Start or heal the tier with these fault profiles (tier ``db``); wait until the endpoint serves the
    primary and the standby replicates; the tier's status."""
    wanted = sorted(set(faults))
    wrong = [f for f in wanted if f not in FAULTS or FAULTS[f].tier != "db"]
    if wrong:
        known = sorted(n for n, f in FAULTS.items() if f.tier == "db")
        raise LocalStackError(f"not a database fault profile: {', '.join(wrong)}: the database tier's are {', '.join(known)}")
    install_packages(progress)
    state = tier_state.read(_state_file())
    if state is not None and state.get("faults") != wanted and _running_any():
        progress("database fault profiles changed: restarting the database tier")
        down()
        state = None
    for sub in ("conf", "run", "logs"):
        (tier_dir() / sub).mkdir(parents=True, exist_ok=True)
    root = data_root()
    root.mkdir(parents=True, exist_ok=True)
    _chown(root)
    _socket_dir().mkdir(mode=0o700, exist_ok=True)
    _chown(_socket_dir())
    if not _running_any():
        for listener in ("db-a", "db-b"):
            processes.ensure_free(HOST, PORTS[listener], listener)
        _state_file().unlink(missing_ok=True)
    if running_endpoint_pid() is None:
        for listener in ("endpoint", "endpoint stats"):
            processes.ensure_free(HOST, PORTS[listener], f"database {listener}")
    _heal_nodes(wanted, progress)
    tier_state.write(_state_file(), {"faults": wanted})
    _endpoint_conf().write_text(render_endpoint(wanted))
    if running_endpoint_pid() is None:
        progress(f"starting the database endpoint on {address('endpoint')}")
        processes.start([str(HAPROXY), "-db", "-f", str(_endpoint_conf())], _log("endpoint"),
                        pid_file=_endpoint_pid_file())
    _wait_healthy(wanted)
    return status()


def _running_any() -> bool:
    return any(postmaster_pid(n) for n in NODES) or running_endpoint_pid() is not None


def running_endpoint_pid() -> int | None:
    return processes.running_pid(_endpoint_pid_file(), str(_endpoint_conf()))


def _wait_healthy(faults: Sequence[str]) -> None:
    current: dict = {}

    def healthy() -> bool:
        nonlocal current
        current = status()
        return not _sick(current)

    def timed_out() -> str:
        sick = _sick(current)
        log = _log("endpoint" if sick[0] == "db-endpoint" else sick[0])
        return (f"database tier: {', '.join(sick)} not healthy within {_HEALTHY_WITHIN_S:.0f} s "
                f"({current['replication'] or 'no standby streaming'}): see {log}")

    until(healthy, _HEALTHY_WITHIN_S, 0.1, timed_out, error=LocalStackError)


def _sick(current: dict) -> list[str]:
    return [name for name, c in current["components"].items() if not c["healthy"]]


def down() -> None:
    """Stop the endpoint and both servers (frozen ones killed); nothing of the tier keeps running."""
    processes.stop(_endpoint_pid_file(), str(_endpoint_conf()))
    for node in NODES:
        _stop_node(node)
    _state_file().unlink(missing_ok=True)


# --------------------------------------------------------------------------- the failover


def fail_over(progress: Progress = _quiet) -> dict:
    """The primary's zone goes dark (its server frozen), the standby is promoted; what was done.

    With no standby (db-no-standby) nothing is promoted: the database stays down until :func:`up`.
    Under db-async-replication the standby is first held behind for :data:`ASYNC_LAG_S` (its WAL receiver
    off): the commits its primary acknowledges meanwhile exist on the primary only, as they do whenever an
    asynchronous standby trails (on loopback it trails by microseconds, too little to ever be seen).
    Promotion replays everything a standby has received, so pausing its replay would lose nothing: what
    is lost is what it never received."""
    faults = (tier_state.read(_state_file()) or {}).get("faults", [])
    primary, standby = _roles()
    if primary is None:
        raise LocalStackError("database tier: no primary to fail over from (start it with `gauntlet local up --db`)")
    done: dict[str, Any] = {"fenced": primary, "promoted": None}
    if standby is not None and "db-async-replication" in faults:
        _configure(standby, faults, synchronous=False, receiving=False)
        _reload(standby)
        done["standby_held_behind_s"] = ASYNC_LAG_S
        time.sleep(ASYNC_LAG_S)
    done["fenced_pid"] = _signal_server(primary, signal.SIGSTOP)
    done["fenced_at"] = time.time()
    progress(f"{primary} fenced (frozen)")
    if standby is None:
        done["why"] = "no standby to promote: the database is down until the instance is restored"
        return done
    with admin(standby) as conn:  # configured without a synchronous standby of its own, as every standby is
        conn.execute("SELECT pg_promote(wait => true, wait_seconds => 30)")
    done.update(promoted=standby, promoted_at=time.time())
    progress(f"{standby} promoted")
    return done


# --------------------------------------------------------------------------- status


def replication(primary: str | None) -> list[dict]:
    """What the primary's ``pg_stat_replication`` says of its standbys."""
    if primary is None:
        return []
    try:
        with admin(primary) as conn:
            rows = conn.execute("SELECT application_name, state, sync_state FROM pg_stat_replication "
                                "WHERE application_name IN ('db-a', 'db-b') ORDER BY 1").fetchall()
    except psycopg.Error:
        return []
    return [{"standby": r[0], "state": r[1], "sync_state": r[2]} for r in rows]


def _endpoint_healthy() -> bool:
    try:
        return httpx.get(f"http://{address('endpoint stats')}/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def status() -> dict:
    """Each component's health, address and pid; which node is primary, the replication, the faults."""
    state = tier_state.read(_state_file()) or {}
    faults = state.get("faults", [])
    primary, standby = _roles()
    streams = replication(primary)
    wanted_sync = "sync" if _synchronous(faults) else "async"
    endpoint_pid = running_endpoint_pid()
    components = {"db-endpoint": {"healthy": endpoint_pid is not None and _endpoint_healthy(), "address": address("endpoint"),
                                  "pid": endpoint_pid}}
    for node in NODES:
        pid = postmaster_pid(node)
        if node == primary:
            healthy = True
        elif node == standby:
            healthy = any(s["standby"] == node and s["state"] == "streaming" and s["sync_state"] == wanted_sync for s in streams)
        else:
            healthy = "db-no-standby" in faults and pid is None
        components[node] = {"healthy": healthy and bool(state), "address": address(node), "pid": pid}
    return {
        "components": components,
        "endpoint": address("endpoint"),
        "database": DATABASE,
        "user": USER,
        "passfile": str(passfile()),
        "primary": primary,
        "standby": standby,
        "fenced": [n for n in NODES if frozen(n)],
        "replication": streams,
        "faults": faults,
        "client_health_checks": "db-clients-no-reconnect" not in faults,
    }
