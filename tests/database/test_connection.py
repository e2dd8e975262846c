"""Connection parameters from the database section: credentials by reference, never in a message; the watchdog."""

from __future__ import annotations

import socket
import time

import pytest

from gauntlet.database.connection import Watchdog, error_text, parameters, where
from gauntlet.environment import Database
from gauntlet.exceptions import NotChecked

SECRET = "s3cr3t-value-never-shown"


def _db(**kw) -> Database:
    return Database(**{"host": "db.example.internal", "port": 5432, "name": "hub", "user": "${GAUNTLET_TEST_DB_USER}",
                       "password": "${GAUNTLET_TEST_DB_PASSWORD}", **kw})


def test_credentials_come_from_the_variables_the_file_names(monkeypatch):
    monkeypatch.setenv("GAUNTLET_TEST_DB_USER", "hub_app")
    monkeypatch.setenv("GAUNTLET_TEST_DB_PASSWORD", SECRET)
    params = parameters(_db(), "gauntlet-writer")
    assert params["user"] == "hub_app" and params["password"] == SECRET and params["sslmode"] == "verify-full"
    assert SECRET not in where(_db()) and where(_db()) == "db.example.internal:5432/hub"


def test_an_unset_variable_is_not_checked_naming_the_variable_not_a_value(monkeypatch):
    monkeypatch.setenv("GAUNTLET_TEST_DB_USER", "hub_app")
    monkeypatch.delenv("GAUNTLET_TEST_DB_PASSWORD", raising=False)
    with pytest.raises(NotChecked, match=r"database.password: the variable GAUNTLET_TEST_DB_PASSWORD is not set"):
        parameters(_db(), "gauntlet-writer")


def test_an_unreadable_passfile_is_not_checked(tmp_path):
    db = _db(user="hub", password=None, passfile=str(tmp_path / "missing"))
    with pytest.raises(NotChecked, match=r"database.passfile: .*missing cannot be read"):
        parameters(db, "gauntlet-reader")


def test_error_text_masks_a_password_a_driver_message_might_carry(monkeypatch):
    monkeypatch.setenv("GAUNTLET_TEST_DB_PASSWORD", SECRET)
    text = error_text(RuntimeError(f"connection to server failed: password={SECRET} rejected\nmore"))
    assert SECRET not in text and text.startswith("RuntimeError: connection to server failed")


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def fileno(self) -> int:
        return self.sock.fileno()


def test_the_watchdog_shuts_an_operation_past_its_deadline_down_and_leaves_a_quick_one_alone():
    mine, peer = socket.socketpair()
    dog = Watchdog()
    try:
        with dog.bound(_Conn(mine), 5.0):
            pass  # done in time: nothing happens
        with dog.bound(_Conn(mine), 0.05):
            time.sleep(0.3)
        peer.settimeout(2)
        assert peer.recv(1) == b"", "the socket was shut down: the blocked operation sees the connection end"
    finally:
        dog.stop()
        mine.close()
        peer.close()
