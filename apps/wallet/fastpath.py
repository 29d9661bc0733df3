"""The money fast path: the two statements every hold, capture and release runs, in raw SQL.

Why raw SQL and not the ORM: on a shared team pool every request queues on the wallet row's
lock, held from the wallet UPDATE until COMMIT, so a hot wallet's throughput is one over the
time that row stays locked, and that time is counted in client round trips. Django's ORM
(5.2) has no UPDATE ... RETURNING and no data-modifying CTEs: the ORM version of a hold is an
INSERT for the hold, then the UPDATE, a SELECT to learn the new balance for the ledger row
and an INSERT for the entry, the last two while the row is locked. bench/wallet.py measures both on the same hot
wallet in the same run ("hot wallet, 16-way" and "hot wallet, 16-way, ORM").

Here, on PostgreSQL, one statement inserts the hold, moves the wallet and appends the ledger
entry; the only round trip while the row is locked is COMMIT. On SQLite the IMMEDIATE
transaction already serialises writers, so the same rows are written by consecutive
statements; same arithmetic, same guard.

Columns are named from the models (`_meta`), results are read by name (RETURNING ... AS),
values are prepared by the model fields, so a renamed or retyped column cannot silently
shift a positional slice."""
from __future__ import annotations

from datetime import date
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from .models import Budget, BudgetSpend, Hold, LedgerEntry, MemberCap, MemberSpend, Wallet

ENTRY_FIELDS = ("wallet", "kind", "amount", "held_delta", "balance_after", "held_after", "hold", "generation",
                "actor", "reason", "created_at")
HOLD_FIELDS = ("wallet", "generation", "member", "amount", "state", "created_at", "spend_month", "budget",
               "budget_month")


class Moved(NamedTuple):
    entry_id: int
    hold_id: int | None


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model, name: str) -> str:
    return _q(model._meta.get_field(name).column)


def _table(model) -> str:
    return _q(model._meta.db_table)


def _value(model, name: str, value):
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def _row(cursor) -> dict | None:
    """The next result row as {column alias: value}."""
    row = cursor.fetchone()
    return None if row is None else dict(zip((column[0] for column in cursor.description), row))


def _insert(model, names, values: dict, *, computed: dict | None = None) -> tuple[str, str, list]:
    """(column list, value list, params) for an INSERT of `names`: each value is a parameter,
    or the SQL expression given for it in `computed` (a column of an earlier statement)."""
    computed = computed or {}
    columns = ", ".join(_column(model, name) for name in names)
    items, params = [], []
    for name in names:
        if name in computed:
            items.append(computed[name])
        else:
            items.append("%s")
            params.append(_value(model, name, values[name]))
    return columns, ", ".join(items), params


def wallet_move(
    *, wallet_id: int, kind: str, amount: int = 0, held_delta: int = 0, hold_id: int | None = None,
    generation_id=None, actor_id: int | None = None, reason: str = "", new_hold: dict | None = None,
) -> Moved | None:
    """Move balance by `amount` and held by `held_delta` with one conditional UPDATE that keeps
    balance >= held afterwards, and append the ledger entry recording it; with `new_hold`
    (Hold field values), insert that hold too and link the entry to it.

    Returns the entry and hold ids, or None when the guard refused: the caller then raises and
    its transaction takes back anything written (on PostgreSQL the hold CTE runs regardless)."""
    now = timezone.now()
    balance, held, wallet_pk = _column(Wallet, "balance"), _column(Wallet, "held"), _column(Wallet, "id")
    update = (
        f"UPDATE {_table(Wallet)} SET {balance} = {balance} + %s, {held} = {held} + %s, "
        f"{_column(Wallet, 'updated_at')} = %s WHERE {wallet_pk} = %s AND {balance} >= {held} + %s "
        f"RETURNING {wallet_pk} AS wallet, {balance} AS balance_after, {held} AS held_after"
    )
    update_params = [amount, held_delta, _value(Wallet, "updated_at", now), wallet_id, held_delta - amount]
    entry = {"wallet": wallet_id, "kind": kind, "amount": amount, "held_delta": held_delta, "hold": hold_id,
             "generation": generation_id, "actor": actor_id, "reason": reason, "created_at": now}
    entry_table, entry_pk, entry_hold = _table(LedgerEntry), _column(LedgerEntry, "id"), _column(LedgerEntry, "hold")
    insert_hold = ""
    if new_hold is not None:
        columns, items, hold_params = _insert(Hold, HOLD_FIELDS, new_hold)
        insert_hold = f"INSERT INTO {_table(Hold)} ({columns}) VALUES ({items}) RETURNING {_column(Hold, 'id')} AS id"

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            computed = {"wallet": "w.wallet", "balance_after": "w.balance_after", "held_after": "w.held_after"}
            ctes, params, sources = [], [], ["w"]
            if insert_hold:
                ctes.append(f"h AS ({insert_hold})")
                params += hold_params
                computed["hold"], sources = "h.id", ["w", "h"]
            ctes.append(f"w AS ({update})")
            params += update_params
            columns, items, entry_params = _insert(LedgerEntry, ENTRY_FIELDS, entry, computed=computed)
            cursor.execute(
                f"WITH {', '.join(ctes)} INSERT INTO {entry_table} ({columns}) SELECT {items} "
                f"FROM {', '.join(sources)} RETURNING {entry_pk} AS entry_id, {entry_hold} AS hold_id",
                params + entry_params,
            )
            row = _row(cursor)
            return Moved(row["entry_id"], row["hold_id"]) if row else None

        if insert_hold:
            cursor.execute(insert_hold, hold_params)
            entry["hold"] = _row(cursor)["id"]
        cursor.execute(update, update_params)
        moved = _row(cursor)
        if moved is None:
            return None
        entry.update(moved)
        columns, items, entry_params = _insert(LedgerEntry, ENTRY_FIELDS, entry)
        cursor.execute(f"INSERT INTO {entry_table} ({columns}) VALUES ({items}) RETURNING {entry_pk} AS entry_id",
                       entry_params)
        return Moved(_row(cursor)["entry_id"], entry["hold"])


def member_spend_take(*, wallet_id: int, member_id: int, month: date, amount: int) -> bool:
    """Add `amount` to the member's spend on this wallet for `month` unless that passes their
    cap (MemberCap; no row, no cap). False when the cap refused it.

    One upsert checks and takes: the first spend of a month inserts the row (if the amount
    alone fits the cap), every later one updates it under the same guard. Two first spends
    racing cannot both miss the row: PostgreSQL makes the loser wait for the winner's row and
    re-checks the guard against it (ON CONFLICT DO UPDATE), SQLite serialises writers."""
    spend, cap = _table(MemberSpend), _table(MemberCap)
    s_wallet, s_member, s_month, s_amount = (
        _column(MemberSpend, name) for name in ("wallet", "member", "month", "amount"))
    the_cap = (f"(SELECT {_column(MemberCap, 'monthly_cap')} FROM {cap} "
               f"WHERE {cap}.{_column(MemberCap, 'wallet')} = %s AND {cap}.{_column(MemberCap, 'member')} = %s)")
    total = f"{spend}.{s_amount} + excluded.{s_amount}"
    sql = (
        f"INSERT INTO {spend} ({s_wallet}, {s_member}, {s_month}, {s_amount}) SELECT %s, %s, %s, %s "
        f"WHERE %s <= COALESCE({the_cap}, %s) "
        f"ON CONFLICT ({s_wallet}, {s_member}, {s_month}) DO UPDATE SET {s_amount} = {total} "
        f"WHERE {total} <= COALESCE({the_cap}, {total})"
    )
    month_value = _value(MemberSpend, "month", month)
    params = [wallet_id, member_id, month_value, amount, amount, wallet_id, member_id, amount, wallet_id, member_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def budget_take(*, budget_id: int, month: date, amount: int) -> bool:
    """Add `amount` to a budget's lifetime spend and to its spend for `month`, each under its
    limit (a blank limit always passes). False when either limit refused it; the caller's
    transaction then rolls back whatever this wrote. Two statements: the lifetime UPDATE (its
    row lock serialises concurrent holds on one budget) and the month's guarded upsert."""
    budget, spend = _table(Budget), _table(BudgetSpend)
    b_id, b_spent, b_lifetime, b_monthly = (_column(Budget, name) for name in ("id", "spent", "lifetime_limit",
                                                                             "monthly_limit"))
    s_budget, s_month, s_amount = (_column(BudgetSpend, name) for name in ("budget", "month", "amount"))
    month_value = _value(BudgetSpend, "month", month)
    the_limit = f"(SELECT {b_monthly} FROM {budget} WHERE {b_id} = %s)"
    total = f"{spend}.{s_amount} + excluded.{s_amount}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {budget} SET {b_spent} = {b_spent} + %s "
            f"WHERE {b_id} = %s AND ({b_lifetime} IS NULL OR {b_spent} + %s <= {b_lifetime})",
            [amount, budget_id, amount])
        if cursor.rowcount != 1:
            return False
        cursor.execute(
            f"INSERT INTO {spend} ({s_budget}, {s_month}, {s_amount}) SELECT %s, %s, %s "
            f"WHERE %s <= COALESCE({the_limit}, %s) "
            f"ON CONFLICT ({s_budget}, {s_month}) DO UPDATE SET {s_amount} = {total} "
            f"WHERE {total} <= COALESCE({the_limit}, {total})",
            [budget_id, month_value, amount, amount, budget_id, amount, budget_id])
        return cursor.rowcount == 1


def budget_give_back(*, budget_id: int, month: date, amount: int) -> None:
    """Return what a settled hold did not use to its budget (lifetime and month)."""
    budget, spend = _table(Budget), _table(BudgetSpend)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {budget} SET {_column(Budget, 'spent')} = {_column(Budget, 'spent')} - %s "
                       f"WHERE {_column(Budget, 'id')} = %s", [amount, budget_id])
        cursor.execute(f"UPDATE {spend} SET {_column(BudgetSpend, 'amount')} = {_column(BudgetSpend, 'amount')} - %s "
                       f"WHERE {_column(BudgetSpend, 'budget')} = %s AND {_column(BudgetSpend, 'month')} = %s",
                       [amount, budget_id, _value(BudgetSpend, "month", month)])
