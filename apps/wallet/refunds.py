"""Refunds: credits given back for a generation that finished and was charged.

A refund is its own ledger entry kind (`refund`), linked to the captured hold and its
generation, with the admin who gave it and a mandatory reason. The capture stays as it was
(the ledger is append-only); the refunds of one hold never add up to more than it captured,
and `wallet_audit` checks that. Member spend counters are left alone: they count what was
committed against a cap that month, which a later refund does not undo.

Self-contained on purpose (ORM, no raw SQL): refunds are rare admin actions, not the hot
hold/capture path in services.py. Lock order as everywhere: hold row, then wallet row."""
from __future__ import annotations

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from .errors import WalletError
from .models import Hold, LedgerEntry, Wallet
from .money import format_credits


class RefundRefused(WalletError):
    code = "refund_refused"
    status = 409


def hold_refundable(*, hold: Hold) -> int:
    """Millicredits of this hold's capture not refunded yet (0 unless it was captured)."""
    if hold.state != Hold.State.CAPTURED:
        return 0
    refunded = LedgerEntry.objects.filter(hold=hold, kind=LedgerEntry.Kind.REFUND).aggregate(total=Sum("amount"))
    return (hold.captured_amount or 0) - (refunded["total"] or 0)


@transaction.atomic
def hold_refund(*, hold: Hold, amount: int, reason: str, actor) -> LedgerEntry:
    """Give `amount` millicredits of a captured hold back to its wallet, once per call."""
    if amount <= 0:
        raise ValueError("A refund must be positive.")
    if not (reason or "").strip():
        raise ValueError("A reason is required for every refund.")
    locked = Hold.objects.select_for_update().get(pk=hold.pk)  # two admins refunding at once queue here
    if locked.state != Hold.State.CAPTURED:
        raise RefundRefused("Only a generation that finished and was charged can be refunded.")
    left = hold_refundable(hold=locked)
    if amount > left:
        raise RefundRefused(f"At most {format_credits(left)} credits of this generation can still be refunded.")
    Wallet.objects.filter(pk=locked.wallet_id).update(balance=F("balance") + amount, updated_at=timezone.now())
    balance, held = Wallet.objects.filter(pk=locked.wallet_id).values_list("balance", "held").get()
    return LedgerEntry.objects.create(
        wallet_id=locked.wallet_id, kind=LedgerEntry.Kind.REFUND, amount=amount, held_delta=0,
        balance_after=balance, held_after=held, hold=locked, generation_id=locked.generation_id,
        actor=actor, reason=reason.strip()[:255],
    )
