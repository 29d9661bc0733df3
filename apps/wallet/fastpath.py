"""The money fast path: the statements every hold, capture and release runs, in raw SQL.

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

A hold (hold_open) is one statement on PostgreSQL too: the member's spend, the key's budget,
the wallet, the hold and its ledger entry, and the row the hold is for (the generation), in
one round trip between BEGIN and COMMIT, each guard reading the one before it. The statement
texts depend only on their shape and are built once per process.

Columns are named from the models (`_meta`), results are read by name (RETURNING ... AS),
values are prepared by the model fields, so a renamed or retyped column cannot silently
shift a positional slice."""
from __future__ import annotations

from datetime import date
from functools import cache
from typing import NamedTuple

from django.db import DataError, connection
from django.utils import timezone
from psycopg.errors import DivisionByZero

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


@cache
def _insert_text(model, names: tuple[str, ...], computed: tuple[tuple[str, str], ...] = ()) -> tuple[str, str]:
    """(column list, value list) of an INSERT of `names`: each value a parameter, or the SQL
    expression given for it in `computed` (a column of an earlier statement)."""
    expressions = dict(computed)
    columns = ", ".join(_column(model, name) for name in names)
    return columns, ", ".join(expressions.get(name, "%s") for name in names)


@cache
def _wallet_update(vendor: str, guard: str = "") -> str:
    """Move balance and held unless that leaves balance < held; `guard`: a further condition."""
    balance, held, wallet_pk = _column(Wallet, "balance"), _column(Wallet, "held"), _column(Wallet, "id")
    return (
        f"UPDATE {_table(Wallet)} SET {balance} = {balance} + %s, {held} = {held} + %s, "
        f"{_column(Wallet, 'updated_at')} = %s WHERE {wallet_pk} = %s AND {balance} >= {held} + %s{guard} "
        f"RETURNING {wallet_pk} AS wallet, {balance} AS balance_after, {held} AS held_after"
    )


def _wallet_update_params(*, wallet_id: int, amount: int, held_delta: int, now) -> list:
    return [amount, held_delta, _value(Wallet, "updated_at", now), wallet_id, held_delta - amount]


@cache
def _hold_insert(vendor: str, source: str = "") -> str:
    """INSERT of a hold (HOLD_FIELDS), VALUES or, with `source`, SELECT ... FROM source."""
    columns, items = _insert_text(Hold, HOLD_FIELDS)
    values = f"SELECT {items} FROM {source}" if source else f"VALUES ({items})"
    return f"INSERT INTO {_table(Hold)} ({columns}) {values} RETURNING {_column(Hold, 'id')} AS id"


# Where a PostgreSQL ledger entry's values come from: the wallet UPDATE (w) and the new hold (h).
FROM_WALLET = (("balance_after", "w.balance_after"), ("held_after", "w.held_after"), ("wallet", "w.wallet"))
FROM_WALLET_AND_HOLD = (*FROM_WALLET, ("hold", "h.id"))


@cache
def _entry_insert(vendor: str, computed: tuple[tuple[str, str], ...]) -> str:
    """INSERT of a ledger entry: VALUES, or (PostgreSQL, with `computed`) SELECT FROM the CTEs."""
    columns, items = _insert_text(LedgerEntry, ENTRY_FIELDS, computed)
    entry_pk, entry_hold = _column(LedgerEntry, "id"), _column(LedgerEntry, "hold")
    sources = ", ".join(sorted({expression.split(".")[0] for _, expression in computed}, reverse=True))
    values = f"SELECT {items} FROM {sources}" if computed else f"VALUES ({items})"
    return (f"INSERT INTO {_table(LedgerEntry)} ({columns}) {values} "
            f"RETURNING {entry_pk} AS entry_id, {entry_hold} AS hold_id")


def _entry_params(entry: dict, computed: tuple[tuple[str, str], ...] = ()) -> list:
    skip = {name for name, _ in computed}
    return [_value(LedgerEntry, name, entry[name]) for name in ENTRY_FIELDS if name not in skip]


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
    vendor = connection.vendor
    update_params = _wallet_update_params(wallet_id=wallet_id, amount=amount, held_delta=held_delta, now=now)
    entry = {"wallet": wallet_id, "kind": kind, "amount": amount, "held_delta": held_delta, "hold": hold_id,
             "generation": generation_id, "actor": actor_id, "reason": reason, "created_at": now}
    hold_params = [_value(Hold, name, new_hold[name]) for name in HOLD_FIELDS] if new_hold is not None else []

    with connection.cursor() as cursor:
        if vendor == "postgresql":
            computed = FROM_WALLET_AND_HOLD if new_hold is not None else FROM_WALLET
            ctes = ([f"h AS ({_hold_insert(vendor)})"] if new_hold is not None else []) + \
                [f"w AS ({_wallet_update(vendor)})"]
            cursor.execute(f"WITH {', '.join(ctes)} {_entry_insert(vendor, computed)}",
                           hold_params + update_params + _entry_params(entry, computed))
            row = _row(cursor)
            return Moved(row["entry_id"], row["hold_id"]) if row else None

        if new_hold is not None:
            cursor.execute(_hold_insert(vendor), hold_params)
            entry["hold"] = _row(cursor)["id"]
        cursor.execute(_wallet_update(vendor), update_params)
        moved = _row(cursor)
        if moved is None:
            return None
        entry.update(moved)
        cursor.execute(_entry_insert(vendor, ()), _entry_params(entry))
        return Moved(_row(cursor)["entry_id"], entry["hold"])


# ---- the guards a hold passes before the wallet's: member spend caps and key budgets --------
@cache
def _spend_upsert(vendor: str) -> str:
    """Count an amount against a member's month on a wallet unless that passes their cap
    (MemberCap; no row, no cap). Parameters: _spend_upsert_params."""
    spend, cap = _table(MemberSpend), _table(MemberCap)
    s_wallet, s_member, s_month, s_amount = (
        _column(MemberSpend, name) for name in ("wallet", "member", "month", "amount"))
    the_cap = (f"(SELECT {_column(MemberCap, 'monthly_cap')} FROM {cap} "
               f"WHERE {cap}.{_column(MemberCap, 'wallet')} = %s AND {cap}.{_column(MemberCap, 'member')} = %s)")
    total = f"{spend}.{s_amount} + excluded.{s_amount}"
    return (
        f"INSERT INTO {spend} ({s_wallet}, {s_member}, {s_month}, {s_amount}) SELECT %s, %s, %s, %s "
        f"WHERE %s <= COALESCE({the_cap}, %s) "
        f"ON CONFLICT ({s_wallet}, {s_member}, {s_month}) DO UPDATE SET {s_amount} = {total} "
        f"WHERE {total} <= COALESCE({the_cap}, {total})"
    )


def _spend_upsert_params(*, wallet_id: int, member_id: int, month: date, amount: int) -> list:
    month_value = _value(MemberSpend, "month", month)
    return [wallet_id, member_id, month_value, amount, amount, wallet_id, member_id, amount, wallet_id, member_id]


def member_spend_take(*, wallet_id: int, member_id: int, month: date, amount: int) -> bool:
    """Add `amount` to the member's spend on this wallet for `month` unless that passes their
    cap (MemberCap; no row, no cap). False when the cap refused it.

    One upsert checks and takes: the first spend of a month inserts the row (if the amount
    alone fits the cap), every later one updates it under the same guard. Two first spends
    racing cannot both miss the row: PostgreSQL makes the loser wait for the winner's row and
    re-checks the guard against it (ON CONFLICT DO UPDATE), SQLite serialises writers."""
    with connection.cursor() as cursor:
        cursor.execute(_spend_upsert(connection.vendor), _spend_upsert_params(
            wallet_id=wallet_id, member_id=member_id, month=month, amount=amount))
        return cursor.rowcount == 1


@cache
def _budget_lifetime_take(vendor: str, guard: str = "") -> str:
    """Parameters: amount, budget id, amount."""
    budget = _table(Budget)
    b_id, b_spent, b_lifetime = (_column(Budget, name) for name in ("id", "spent", "lifetime_limit"))
    return (f"UPDATE {budget} SET {b_spent} = {b_spent} + %s "
            f"WHERE {b_id} = %s AND ({b_lifetime} IS NULL OR {b_spent} + %s <= {b_lifetime}){guard}")


@cache
def _budget_month_take(vendor: str, guard: str = "") -> str:
    """Parameters: _budget_month_params."""
    budget, spend = _table(Budget), _table(BudgetSpend)
    the_limit = f"(SELECT {_column(Budget, 'monthly_limit')} FROM {budget} WHERE {_column(Budget, 'id')} = %s)"
    s_budget, s_month, s_amount = (_column(BudgetSpend, name) for name in ("budget", "month", "amount"))
    total = f"{spend}.{s_amount} + excluded.{s_amount}"
    return (f"INSERT INTO {spend} ({s_budget}, {s_month}, {s_amount}) SELECT %s, %s, %s "
            f"WHERE %s <= COALESCE({the_limit}, %s){guard} "
            f"ON CONFLICT ({s_budget}, {s_month}) DO UPDATE SET {s_amount} = {total} "
            f"WHERE {total} <= COALESCE({the_limit}, {total})")


def _budget_month_params(*, budget_id: int, month: date, amount: int) -> list:
    return [budget_id, _value(BudgetSpend, "month", month), amount, amount, budget_id, amount, budget_id]


def budget_take(*, budget_id: int, month: date, amount: int) -> bool:
    """Add `amount` to a budget's lifetime spend and to its spend for `month`, each under its
    limit (a blank limit always passes). False when either limit refused it; the caller's
    transaction then rolls back whatever this wrote. Two statements: the lifetime UPDATE (its
    row lock serialises concurrent holds on one budget) and the month's guarded upsert."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(_budget_lifetime_take(vendor), [amount, budget_id, amount])
        if cursor.rowcount != 1:
            return False
        cursor.execute(_budget_month_take(vendor), _budget_month_params(budget_id=budget_id, month=month,
                                                                        amount=amount))
        return cursor.rowcount == 1


# ---- a whole hold in one statement (PostgreSQL) ------------------------------------------------
class Placed(NamedTuple):
    refused: str | None  # "member_cap", "budget" or "credits"; None when the hold was placed
    entry_id: int | None
    hold_id: int | None


REFUSED_UNNAMED = "refused"  # hold_open(alone=True): a guard refused, the statement wrote nothing


def hold_open(*, hold: dict, before: tuple[str, list] | None = None, alone: bool = False) -> Placed:
    """PostgreSQL only: place a hold (Hold field values) in one statement, in the caller's
    transaction: the member's spend when the hold has a spend_month, the budget when it has
    one, the wallet, the hold row and its ledger entry; `before` is an INSERT (sql, params)
    the same statement runs too (the generation the hold is for).

    Each guard's CTE reads the one before it (EXISTS), so a refusal stops the rest and
    PostgreSQL takes the rows in the wallet's lock order: spend, budget, wallet. When a guard
    refuses, the caller must roll back: what ran before it (and `before`) was written.

    alone=True is for autocommit (no transaction open): the statement is then the whole
    transaction, which saves BEGIN and COMMIT, two of its three round trips. It cannot leave
    a refusal half written, so it divides by the number of ledger entries it wrote: none (a
    guard refused) is a division by zero, which aborts the statement and everything its CTEs
    wrote. It then answers REFUSED_UNNAMED; the caller asks again in a transaction to learn
    which guard it was."""
    vendor, amount = connection.vendor, hold["amount"]
    ctes, params, previous = [], [], ""
    if before is not None:
        ctes.append(f"g AS ({before[0]})")
        params += before[1]
    if hold["spend_month"] is not None:
        ctes.append(f"s AS ({_spend_upsert(vendor)} RETURNING 1 AS ok)")
        params += _spend_upsert_params(wallet_id=hold["wallet"], member_id=hold["member"], month=hold["spend_month"],
                                       amount=amount)
        previous = "s"
    if hold["budget"] is not None:
        guard = f" AND EXISTS (SELECT 1 FROM {previous})" if previous else ""
        ctes.append(f"b AS ({_budget_lifetime_take(vendor, guard)} RETURNING 1 AS ok)")
        params += [amount, hold["budget"], amount]
        ctes.append(f"bs AS ({_budget_month_take(vendor, ' AND EXISTS (SELECT 1 FROM b)')} RETURNING 1 AS ok)")
        params += _budget_month_params(budget_id=hold["budget"], month=hold["budget_month"], amount=amount)
        previous = "bs"
    now = hold["created_at"]
    guard = f" AND EXISTS (SELECT 1 FROM {previous})" if previous else ""
    ctes.append(f"w AS ({_wallet_update(vendor, guard)})")
    params += _wallet_update_params(wallet_id=hold["wallet"], amount=0, held_delta=amount, now=now)
    ctes.append(f"h AS ({_hold_insert(vendor, 'w')})")
    params += [_value(Hold, name, hold[name]) for name in HOLD_FIELDS]
    ctes.append(f"e AS ({_entry_insert(vendor, FROM_WALLET_AND_HOLD)})")
    entry = {"wallet": hold["wallet"], "kind": LedgerEntry.Kind.HOLD, "amount": 0, "held_delta": amount,
             "hold": None, "generation": hold["generation"], "actor": hold["member"],
             "reason": "Hold for generation", "created_at": now}
    params += _entry_params(entry, FROM_WALLET_AND_HOLD)
    spend_ok = "(SELECT count(*) FROM s)" if hold["spend_month"] is not None else "1"
    budget_ok = "(SELECT count(*) FROM bs)" if hold["budget"] is not None else "1"
    whole = ", 1 / (SELECT count(*) FROM e) AS placed" if alone else ""
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {', '.join(ctes)} SELECT {spend_ok} AS spend_ok, {budget_ok} AS budget_ok, "
                           f"(SELECT entry_id FROM e) AS entry_id, (SELECT hold_id FROM e) AS hold_id{whole}", params)
            row = _row(cursor)
    except DataError as exc:
        if alone and isinstance(exc.__cause__, DivisionByZero):
            return Placed(REFUSED_UNNAMED, None, None)
        raise
    if not row["spend_ok"]:
        return Placed("member_cap", None, None)
    if not row["budget_ok"]:
        return Placed("budget", None, None)
    if row["entry_id"] is None:
        return Placed("credits", None, None)
    return Placed(None, row["entry_id"], row["hold_id"])


@cache
def _budget_spent_give_back(vendor: str, guard: str = "") -> str:
    """Parameters: amount, budget id."""
    spent = _column(Budget, "spent")
    return f"UPDATE {_table(Budget)} SET {spent} = {spent} - %s WHERE {_column(Budget, 'id')} = %s{guard}"


@cache
def _budget_month_give_back(vendor: str, guard: str = "") -> str:
    """Parameters: amount, budget id, month."""
    amount = _column(BudgetSpend, "amount")
    return (f"UPDATE {_table(BudgetSpend)} SET {amount} = {amount} - %s "
            f"WHERE {_column(BudgetSpend, 'budget')} = %s AND {_column(BudgetSpend, 'month')} = %s{guard}")


def budget_give_back(*, budget_id: int, month: date, amount: int) -> None:
    """Return what a settled hold did not use to its budget (lifetime and month)."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(_budget_spent_give_back(vendor), [amount, budget_id])
        cursor.execute(_budget_month_give_back(vendor), [amount, budget_id, _value(BudgetSpend, "month", month)])


# ---- settling a hold in one statement (PostgreSQL) ---------------------------------------------
@cache
def _hold_flip(vendor: str, guard: str = "") -> str:
    """Parameters: state, captured amount, settled at, hold id, the open state."""
    h_state, h_id = _column(Hold, "state"), _column(Hold, "id")
    return (f"UPDATE {_table(Hold)} SET {h_state} = %s, {_column(Hold, 'captured_amount')} = %s, "
            f"{_column(Hold, 'settled_at')} = %s WHERE {h_id} = %s AND {h_state} = %s{guard} RETURNING {h_id} AS id")


@cache
def _member_spend_give_back(vendor: str, guard: str = "") -> str:
    """Parameters: amount, wallet id, member id, month."""
    amount = _column(MemberSpend, "amount")
    return (f"UPDATE {_table(MemberSpend)} SET {amount} = {amount} - %s WHERE {_column(MemberSpend, 'wallet')} = %s "
            f"AND {_column(MemberSpend, 'member')} = %s AND {_column(MemberSpend, 'month')} = %s{guard}")


def hold_close(*, hold: Hold, state: str, captured: int | None, kind: str, reason: str,
               gate: tuple[str, list] | None = None) -> bool | None:
    """PostgreSQL only: flip an open hold to `state` exactly once, give back what it does not
    use to the member's month and the budget, move the wallet and append the ledger entry, in
    one statement in the caller's transaction. True when settled, False when the hold was
    settled already (nothing written), None when the wallet refused (the caller must raise).

    The give-backs and the wallet UPDATE each read the flip (EXISTS h), and the wallet's guard
    reads the give-backs (count), so PostgreSQL takes the rows in the wallet's lock order:
    hold, spend, budget, wallet.

    `gate` is a data-modifying statement (sql, params) with RETURNING that the same statement
    runs first: the hold flips only if it returned a row (a chat turn's flip from running to
    succeeded, so that the turn and its charge are written by one statement). False when the
    gate returned nothing; a gate that passed on a hold settled already raises (the caller's
    transaction then takes the gate's write back)."""
    vendor, now = connection.vendor, timezone.now()
    give_back = hold.amount - (captured or 0)
    after_flip = " AND EXISTS (SELECT 1 FROM h) RETURNING 1 AS ok"
    ctes, params = [], []
    if gate is not None:
        ctes.append(f"g AS ({gate[0]})")
        params += gate[1]
    ctes.append(f"h AS ({_hold_flip(vendor, ' AND EXISTS (SELECT 1 FROM g)' if gate is not None else '')})")
    params += [state, captured, _value(Hold, "settled_at", now), hold.pk, Hold.State.OPEN]
    gates = ["EXISTS (SELECT 1 FROM h)"]
    if give_back > 0 and hold.spend_month is not None:
        ctes.append(f"s AS ({_member_spend_give_back(vendor, after_flip)})")
        params += [give_back, hold.wallet_id, hold.member_id, _value(MemberSpend, "month", hold.spend_month)]
        gates.append("(SELECT count(*) FROM s) >= 0")
    if give_back > 0 and hold.budget_id is not None and hold.budget_month is not None:
        ctes.append(f"b AS ({_budget_spent_give_back(vendor, after_flip)})")
        ctes.append(f"bs AS ({_budget_month_give_back(vendor, ' AND EXISTS (SELECT 1 FROM b) RETURNING 1 AS ok')})")
        params += [give_back, hold.budget_id, give_back, hold.budget_id,
                   _value(BudgetSpend, "month", hold.budget_month)]
        gates.append("(SELECT count(*) FROM bs) >= 0")
    ctes.append(f"w AS ({_wallet_update(vendor, ' AND ' + ' AND '.join(gates))})")
    params += _wallet_update_params(wallet_id=hold.wallet_id, amount=-(captured or 0), held_delta=-hold.amount,
                                    now=now)
    ctes.append(f"e AS ({_entry_insert(vendor, FROM_WALLET)})")
    entry = {"wallet": hold.wallet_id, "kind": kind, "amount": -(captured or 0), "held_delta": -hold.amount,
             "hold": hold.pk, "generation": hold.generation_id, "actor": hold.member_id, "reason": reason,
             "created_at": now}
    params += _entry_params(entry, FROM_WALLET)
    gated = "(SELECT count(*) FROM g)" if gate is not None else "1"
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT {gated} AS gated, (SELECT count(*) FROM h) AS flipped, "
                       "(SELECT entry_id FROM e) AS entry_id", params)
        row = _row(cursor)
    if not row["gated"]:
        return False
    if not row["flipped"]:
        if gate is not None:
            raise RuntimeError(f"hold {hold.pk} was settled already but its gate passed; run wallet_audit")
        return False
    return True if row["entry_id"] is not None else None
