"""The database tier's rendered configuration (no process started): the endpoint's PostgreSQL-aware check and
what each fault profile changes in PostgreSQL's."""

from __future__ import annotations

import struct

from gauntlet.local import db_tier


def test_the_endpoint_check_speaks_postgresql_and_admits_a_primary_only():
    text = db_tier.render_endpoint()
    startup = bytes.fromhex(text.split("tcp-check send-binary ")[1].split()[0])
    length, protocol = struct.unpack("!ii", startup[:8])
    assert length == len(startup) and protocol == 196608, "a protocol 3.0 StartupMessage"
    assert b"user\0gauntlet_check\0database\0postgres\0" in startup
    query = bytes.fromhex(text.split("tcp-check send-binary ")[2].split()[0])
    assert query[:1] == b"Q" and query[5:] == b"SELECT pg_is_in_recovery()\0"
    # the whole answer to that query, as PostgreSQL sends it: RowDescription, DataRow 'f', CommandComplete, ReadyForQuery
    column = b"pg_is_in_recovery\0" + struct.pack("!IhIhih", 0, 0, 16, 1, -1, 0)
    answer = (b"T" + struct.pack("!ih", 4 + 2 + len(column), 1) + column + b"D" + struct.pack("!ihi", 11, 1, 1) + b"f"
              + b"C" + struct.pack("!i", 4 + 9) + b"SELECT 1\0" + b"Z" + struct.pack("!i", 5) + b"I")
    assert f"expect min-recv {len(answer)} binary {(b'D' + struct.pack('!ihi', 11, 1, 1) + b'f').hex()}" in text
    assert "option pgsql-check" not in text.replace("`option pgsql-check`", ""), "pgsql-check admits a hot standby"
    assert "on-marked-down shutdown-sessions" not in text, "like RDS's DNS flip, only new connections move"


def test_fault_profiles_change_what_a_commit_waits_for():
    healthy = db_tier.render_node("db-a", [], synchronous=True)["postgresql.conf"]
    assert "synchronous_standby_names = 'FIRST 1 (\"db-a\", \"db-b\")'" in healthy and "synchronous_commit = on" in healthy
    asynchronous = db_tier.render_node("db-a", ["db-async-replication"], synchronous=False)["postgresql.conf"]
    assert "synchronous_standby_names = ''" in asynchronous and "synchronous_commit = local" in asynchronous
    held = db_tier.render_node("db-b", ["db-async-replication"], synchronous=False, receiving=False)["postgresql.conf"]
    assert "primary_conninfo = ''" in held
    alone = db_tier.render_node("db-a", ["db-no-standby"], synchronous=False)["postgresql.conf"]
    assert "synchronous_standby_names = ''" in alone and "(db-no-standby)" in alone
    hba = db_tier.render_node("db-a", [], synchronous=True)["pg_hba.conf"]
    assert "host    artifacthub  hub    127.0.0.1/32    scram-sha-256" in hba and "host    all" not in hba
