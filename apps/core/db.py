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


def insert_statement(*instances) -> tuple[str, list]:
    """The INSERT (sql, params) that saving these new rows would run (one multi-row statement),
    for a caller that sends it inside a larger statement (one round trip instead of two). The
    instances are then marked saved; nothing is read back, so a key the database assigns (an
    auto-increment id) stays unknown to them."""
    from django.db.models.sql import InsertQuery

    meta = instances[0]._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    query = InsertQuery(type(instances[0]))
    query.insert_values(fields, list(instances))
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    for instance in instances:
        instance._state.adding, instance._state.db = False, connection.alias
    return sql, list(params)


def update_statement(queryset, *, returning: str, **values) -> tuple[str, list]:
    """The UPDATE (sql, params) that queryset.update(**values) would run, with RETURNING
    `returning` (so a caller's larger statement can tell whether it matched a row)."""
    from django.db.models.sql import UpdateQuery

    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    query.annotations = {}
    sql, params = query.get_compiler(connection=connection).as_sql()
    return f"{sql} RETURNING {returning}", list(params)
