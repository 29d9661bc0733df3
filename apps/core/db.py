"""Database helpers: connections around slow waits, and a row's INSERT for a larger statement.

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


def insert_statement(instance) -> tuple[str, list]:
    """The INSERT (sql, params) that instance.save() would run for a new row, for a caller that
    sends it inside a larger statement (one round trip instead of two). The instance is then
    marked saved. Only for models whose primary key is set before saving (a UUID default):
    nothing is read back."""
    from django.db.models.sql import InsertQuery

    meta = instance._meta
    query = InsertQuery(type(instance))
    query.insert_values(list(meta.local_concrete_fields), [instance])
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    instance._state.adding, instance._state.db = False, connection.alias
    return sql, list(params)
