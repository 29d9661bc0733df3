"""Recompute every wallet from its ledger and check every hold against its generation."""
from django.db.models import Count, Q, Sum

from .models import Budget, BudgetSpend, Hold, LedgerEntry, MemberSpend, Wallet

FINAL_WITHOUT_CHARGE = {"failed", "canceled"}


def wallet_audit() -> list[str]:
    problems: list[str] = []
    sums = {
        row["wallet"]: row
        for row in LedgerEntry.objects.values("wallet").annotate(balance=Sum("amount"), held=Sum("held_delta"))
    }
    for wallet in Wallet.objects.all().iterator():
        row = sums.get(wallet.pk, {"balance": 0, "held": 0})
        if (row["balance"] or 0) != wallet.balance:
            problems.append(f"wallet {wallet.pk}: balance {wallet.balance} != ledger sum {row['balance']}")
        if (row["held"] or 0) != wallet.held:
            problems.append(f"wallet {wallet.pk}: held {wallet.held} != ledger held sum {row['held']}")
        if wallet.balance < 0 or wallet.held < 0 or wallet.balance < wallet.held:
            problems.append(f"wallet {wallet.pk}: balance {wallet.balance} held {wallet.held} out of range")
    open_held = {
        row["wallet"]: row["total"]
        for row in Hold.objects.filter(state=Hold.State.OPEN).values("wallet").annotate(total=Sum("amount"))
    }
    for wallet in Wallet.objects.exclude(held=0).iterator():
        if open_held.get(wallet.pk, 0) != wallet.held:
            problems.append(f"wallet {wallet.pk}: held {wallet.held} != open holds {open_held.get(wallet.pk, 0)}")
    holds = Hold.objects.select_related("generation").annotate(
        settlements=Count("entries", filter=Q(entries__kind__in=["capture", "release"]))
    )
    for hold in holds.iterator():
        expected = 0 if hold.state == Hold.State.OPEN else 1
        if hold.settlements != expected:
            problems.append(f"hold {hold.pk}: state {hold.state} with {hold.settlements} settlements")
        generation = hold.generation
        if generation is None:
            continue
        if generation.status == "succeeded" and hold.state != Hold.State.CAPTURED:
            problems.append(f"hold {hold.pk}: generation {generation.pk} succeeded but hold is {hold.state}")
        if generation.status in FINAL_WITHOUT_CHARGE and hold.state != Hold.State.RELEASED:
            problems.append(f"hold {hold.pk}: generation {generation.pk} {generation.status} but hold is {hold.state}")
        if generation.status in {"queued", "running"} and hold.state != Hold.State.OPEN:
            problems.append(f"hold {hold.pk}: generation {generation.pk} {generation.status} but hold is {hold.state}")
    problems.extend(_member_spend_problems())
    problems.extend(_budget_problems())
    problems.extend(_refund_problems())
    return problems


def _committed(rows) -> dict:
    """Open holds count their amount, captured ones what they captured, released ones nothing."""
    totals: dict = {}
    for row in rows:
        key = row.pop("key")
        counted = row["held"] if row["state"] == Hold.State.OPEN else (row["captured"] or 0)
        totals[key] = totals.get(key, 0) + counted
    return totals


def _budget_problems() -> list[str]:
    """Each budget's lifetime and monthly counters must equal its open holds plus captures."""
    holds = Hold.objects.filter(budget__isnull=False).exclude(state=Hold.State.RELEASED)
    lifetime = _committed([{"key": r["budget"], **r} for r in holds.values("budget", "state").annotate(
        held=Sum("amount"), captured=Sum("captured_amount"))])
    monthly = _committed([{"key": (r["budget"], r["budget_month"]), **r} for r in holds.values(
        "budget", "budget_month", "state").annotate(held=Sum("amount"), captured=Sum("captured_amount"))])
    problems = []
    for budget in Budget.objects.all().iterator():
        if budget.spent != lifetime.get(budget.pk, 0):
            problems.append(f"budget {budget.pk}: spent {budget.spent} != holds and captures {lifetime.get(budget.pk, 0)}")
    for spend in BudgetSpend.objects.all().iterator():
        want = monthly.pop((spend.budget_id, spend.month), 0)
        if want != spend.amount:
            problems.append(f"budget {spend.budget_id} month {spend.month}: {spend.amount} != holds and captures {want}")
    for (budget_id, month), amount in monthly.items():
        if amount:
            problems.append(f"budget {budget_id} month {month}: {amount} spent but no counter")
    return problems


def _refund_problems() -> list[str]:
    """Refunds belong to captured holds and never add up to more than the capture."""
    problems = []
    refunds = (LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).values("hold")
               .annotate(total=Sum("amount"), entries=Count("id")))
    holds = Hold.objects.in_bulk([row["hold"] for row in refunds if row["hold"] is not None])
    for row in refunds:
        hold = holds.get(row["hold"])
        if hold is None:
            problems.append(f"{row['entries']} refund entries without a hold")
        elif hold.state != Hold.State.CAPTURED:
            problems.append(f"hold {hold.pk}: refunded but {hold.state}")
        elif row["total"] > (hold.captured_amount or 0) or row["total"] <= 0:
            problems.append(f"hold {hold.pk}: refunds {row['total']} exceed the capture {hold.captured_amount}")
    return problems


def _member_spend_problems() -> list[str]:
    """Each member's monthly counter must equal their open holds plus captures of that month."""
    expected: dict[tuple, int] = {}
    rows = (
        Hold.objects.filter(spend_month__isnull=False)
        .exclude(state=Hold.State.RELEASED)
        .values("wallet", "member", "spend_month", "state")
        .annotate(held=Sum("amount"), captured=Sum("captured_amount"))
    )
    for row in rows:
        key = (row["wallet"], row["member"], row["spend_month"])
        counted = row["held"] if row["state"] == Hold.State.OPEN else (row["captured"] or 0)
        expected[key] = expected.get(key, 0) + counted
    problems = []
    for spend in MemberSpend.objects.all().iterator():
        key = (spend.wallet_id, spend.member_id, spend.month)
        want = expected.pop(key, 0)
        if want != spend.amount:
            problems.append(f"member spend {spend.pk}: {spend.amount} != holds and captures {want}")
    for key, amount in expected.items():
        if amount:
            problems.append(f"wallet {key[0]} member {key[1]} month {key[2]}: {amount} spent but no counter")
    return problems
