"""Database helpers: connections around slow waits, and a row's INSERT for a larger statement.

With the bounded connection pool (PostgreSQL, settings DB_POOL), a request thread that waits on
an upstream or on a job while holding its connection keeps it from every other request: 200
open chat streams would hold 200 connections of a pool of 8. Code about to wait gives the
connection back; the next query takes one from the pool again. Without a pool (SQLite, or
persistent per-thread connections) there is nothing to share and nothing is done."""
from __future__ import annotations

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections


def connection_release() -> None:
    if connection.in_atomic_block or not connection.settings_dict.get("OPTIONS", {}).get("pool"):
        return
    connection.close()


def insert_statement(instance) -> tuple[str, list]:
    """The INSERT (sql, params) that instance.save() would run for a new row, for a caller that
    sends it inside a larger statement (one round trip instead of two). The instance is then
    marked saved. Only for models whose primary key is set before saving (a UUID default):
    nothing is read back.

    The text depends only on the model, so it is built once per process; each call prepares
    just the values (pre_save, then get_db_prep_save, as Django's insert compiler does).
    Compiling the INSERT through the ORM on every chat turn was a fifth of the hold's CPU.
    A value that is an expression (F(), Now()) takes the ORM's path, which can compile it."""
    model, db = type(instance), connections[DEFAULT_DB_ALIAS]
    fields = model._meta.local_concrete_fields
    values = [field.pre_save(instance, True) for field in fields]
    if any(hasattr(value, "resolve_expression") for value in values):
        sql, params = _compiled_insert(instance, db)
    else:
        sql = _insert_text(model, db.vendor, rows=1, with_pk=True)
        params = [field.get_db_prep_save(value, connection=db) for field, value in zip(fields, values)]
    instance._state.adding, instance._state.db = False, db.alias
    return sql, params


def _insert_fields(model, with_pk: bool) -> list:
    return [field for field in model._meta.local_concrete_fields if with_pk or not field.primary_key]


@cache
def _insert_text(model, vendor: str, *, rows: int, with_pk: bool) -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    fields = _insert_fields(model, with_pk)
    row = f"({', '.join(['%s'] * len(fields))})"
    return (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
            f"VALUES {', '.join([row] * rows)}")


def _compiled_insert(instance, db) -> tuple[str, list]:
    from django.db.models.sql import InsertQuery

    query = InsertQuery(type(instance))
    query.insert_values(list(instance._meta.local_concrete_fields), [instance])
    [(sql, params)] = query.get_compiler(connection=db).as_sql()
    return sql, list(params)


def statement_cache_widen(max_params: int = 128) -> None:
    """Let psycopg cache the parsing of statements with up to `max_params` parameters.

    psycopg remembers how it split a query text into literal parts and placeholders, but only
    for queries with at most 50 parameters (psycopg._queries.MAX_CACHED_STATEMENT_PARAMS); the
    wallet's one-statement hold has 61 to 71, so every chat turn re-split its 3 KB text with a
    regular expression: a quarter of a millisecond of CPU per turn, measured. The constant is
    read on every execute, so raising it here applies to every connection. A psycopg without it
    (renamed in a later release) keeps its own default; tests/api/test_chat_cost.py notices."""
    try:
        from psycopg import _queries
    except ImportError:  # SQLite-only install
        return
    if getattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", max_params) < max_params:
        _queries.MAX_CACHED_STATEMENT_PARAMS = max_params


def rows_insert_statement(instances: list) -> tuple[str, list]:
    """The INSERT (sql, params) of several new rows of one model whose primary key the database
    assigns (an auto id, not read back), built like insert_statement: the text once per model
    and row count, the values per call."""
    model, db = type(instances[0]), connections[DEFAULT_DB_ALIAS]
    fields = _insert_fields(model, with_pk=False)
    params = []
    for instance in instances:
        params += [field.get_db_prep_save(field.pre_save(instance, True), connection=db) for field in fields]
    return _insert_text(model, db.vendor, rows=len(instances), with_pk=False), params


def update_statement(model, *, where: dict, values: dict) -> tuple[str, list]:
    """UPDATE ... SET `values` WHERE each `where` field equals its value, RETURNING the primary
    key of each row changed, for a caller that sends it inside a larger statement (a chat turn's
    flip rides in the capture's statement). Field names as on the model ("pk" for the primary
    key); plain values only. Text once per model and names, values prepared per call."""
    db = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    prepared = [(meta.pk if name == "pk" else meta.get_field(name), value)
                for name, value in (*values.items(), *where.items())]
    return (_update_text(model, tuple(values), tuple(where), db.vendor),
            [field.get_db_prep_save(value, connection=db) for field, value in prepared])


@cache
def _update_text(model, names: tuple[str, ...], where: tuple[str, ...], vendor: str) -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    meta = model._meta

    def column(name):
        return quote((meta.pk if name == "pk" else meta.get_field(name)).column)

    return (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{column(name)} = %s' for name in names)} "
            f"WHERE {' AND '.join(f'{column(name)} = %s' for name in where)} RETURNING {column('pk')}")
