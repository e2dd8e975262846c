"""The client probes' figures and hypothesis, from operations (no database needed)."""

from __future__ import annotations

from gauntlet.database.clients import Op, breaches, client_figures


def _ops(client: str, spans: list[tuple[float, float, bool]]) -> list[Op]:
    return [Op(client, s, e, ok, seq=i + 1, error="" if ok else "OperationalError: server closed the connection")
            for i, (s, e, ok) in enumerate(spans)]


def test_the_window_is_the_longest_time_between_two_successes_and_reconnect_counts_from_the_database():
    ops = _ops("writer", [(0.0, 0.1, True), (0.2, 0.3, True), (0.4, 1.4, False), (1.5, 2.6, False), (2.7, 3.3, True),
                          (3.4, 3.5, True)])
    f = client_figures(ops, "writer", end=4.0, served_again_at=3.0)
    assert f["unavailable_s"] == 3.0 and (f["unavailable_from"], f["unavailable_to"]) == (0.3, 3.3)
    assert f["errors"] == 2 and f["ok"] == 4 and f["recovered"]
    assert f["reconnect_s"] == 0.3, "from the database serving again (3.0) to the first success after (3.3)"
    assert f["error_kinds"] == {"OperationalError: server closed the connection": 2}


def test_a_client_stuck_or_failing_at_the_end_has_an_open_window_and_never_reconnected():
    ops = _ops("reader", [(0.0, 0.1, True), (0.2, 0.3, True)])
    stuck = client_figures(ops, "reader", end=20.0, served_again_at=5.0, stuck=True)
    assert stuck["unavailable_s"] == 19.7 and stuck["unavailable_to"] is None
    assert not stuck["recovered"] and stuck["reconnect_s"] is None
    failing = client_figures(_ops("reader", [(0.0, 0.1, True), (1.0, 2.0, False)]), "reader", end=12.0, served_again_at=None)
    assert failing["unavailable_s"] == 11.9 and not failing["recovered"]


def test_the_hypothesis_names_the_window_beyond_the_budget_and_every_lost_write():
    figures = {"writer": client_figures(_ops("writer", [(0.0, 0.1, True), (0.2, 12.3, True)]), "writer", 13.0, 1.0),
               "reader": client_figures(_ops("reader", [(0.0, 0.1, True), (0.2, 0.3, True)]), "reader", 0.4, None)}
    durability = {"checked": True, "acknowledged": 40, "lost": 3, "lost_seqs": [31, 32, 33]}
    found = breaches(figures, durability, budget_s=10, t0=0.0)
    assert found == ["writer: writes were not acknowledged for 12.2 s (from 0.1 s to 12.3 s; 0 errors), beyond "
                     "database.unavailability_budget_s (10 s)",
                     "3 of 40 acknowledged writes lost in the failover (seq 31, 32, 33)"]
    assert breaches(figures, {"checked": False, "why": "read-only: the chaos policy does not allow the write probe"},
                    budget_s=20, t0=0.0) == [], "read-only is not a breach: the durability part is not checked"
    assert breaches(figures, {"checked": False, "why": "the writes could not be read back from h:5432/db: x"},
                    budget_s=20, t0=0.0) == ["the writes could not be read back from h:5432/db: x"]


def test_without_the_credentials_the_probes_do_not_run_and_say_why(monkeypatch, tmp_path):
    from gauntlet.database.clients import ClientProbes, Settings
    from gauntlet.environment import Database

    monkeypatch.delenv("GAUNTLET_TEST_DB_PASSWORD", raising=False)
    db = Database(host="db.example.internal", name="hub", user="hub", password="${GAUNTLET_TEST_DB_PASSWORD}")
    probes = ClientProbes(Settings(db, write=True, health_checks=True, budget_s=10), tmp_path / "clients.json")
    probes.start()  # resolves the credentials before any connection: nothing is sent anywhere
    assert probes.skipped == ("database.password: the variable GAUNTLET_TEST_DB_PASSWORD is not set: the client probes "
                              "cannot log in") and probes.error is None
    assert probes.verify() == {"checked": False, "why": probes.skipped} and probes.stop() == {}


def test_the_probes_write_only_where_the_chaos_policy_allows_it(tmp_path):
    from gauntlet import paths
    from gauntlet.chaos import experiments
    from gauntlet.chaos.session import _db_clients
    from gauntlet.environment import load_environment

    staging = load_environment("artifacthub-staging", paths.ROOT / "environments")
    assert staging.chaos.db_write_probe is False
    probes = _db_clients(staging, experiments.load("artifacthub-db-failover"), tmp_path)
    assert probes is not None and probes.settings.write is False and probes.names == ("reader",)
    assert probes.verify()["why"].startswith("read-only: the chaos policy does not allow the write probe")
    assert _db_clients(staging, experiments.load("athens-pod-loss"), tmp_path) is None
