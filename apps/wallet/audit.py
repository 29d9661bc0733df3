"""Recompute every wallet from its ledger and check every hold against its generation."""
from django.db.models import Count, Q, Sum

from .models import Hold, LedgerEntry, Wallet

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
    return problems
