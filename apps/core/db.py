"""Database connections around slow waits.

With the bounded connection pool (PostgreSQL, settings DB_POOL), a request thread that waits on
an upstream or on a job while holding its connection keeps it from every other request: 200
open chat streams would hold 200 connections of a pool of 8. Code about to wait gives the
connection back; the next query takes one from the pool again. Without a pool (SQLite, or
persistent per-thread connections) there is nothing to share and nothing is done."""
from __future__ import annotations

from django.db import connection


def connection_release() -> None:
    if connection.in_atomic_block or not connection.settings_dict.get("OPTIONS", {}).get("pool"):
        return
    connection.close()
