"""Every change to a wallet goes through here: one conditional UPDATE plus one ledger row,
in one transaction. The conditional UPDATE is the concurrency guard: the check and the take
are the same statement, so no interleaving can overspend (SQLite and PostgreSQL alike)."""
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .errors import InsufficientCredits
from .models import Hold, LedgerEntry, Wallet


def wallet_create(*, workspace) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(workspace=workspace)
    return wallet


def _apply(*, wallet_id: int, amount: int = 0, held_delta: int = 0):
    """Move balance and held in one conditional UPDATE that keeps balance >= held afterwards.

    Returns (balance, held) after the change, or None when the guard refused it."""
    updated = (
        Wallet.objects.filter(pk=wallet_id, balance__gte=F("held") + (held_delta - amount))
        .update(balance=F("balance") + amount, held=F("held") + held_delta, updated_at=timezone.now())
    )
    if not updated:
        return None
    return Wallet.objects.filter(pk=wallet_id).values_list("balance", "held").get()


@transaction.atomic
def wallet_grant(*, wallet: Wallet, amount: int, reason: str, actor=None, kind: str = LedgerEntry.Kind.GRANT) -> LedgerEntry:
    if amount <= 0:
        raise ValueError("A grant must be positive.")
    if not reason.strip():
        raise ValueError("A reason is required.")
    balance, held = _apply(wallet_id=wallet.pk, amount=amount)
    return LedgerEntry.objects.create(
        wallet_id=wallet.pk, kind=kind, amount=amount, balance_after=balance, held_after=held, actor=actor, reason=reason
    )


@transaction.atomic
def wallet_adjust(*, wallet: Wallet, amount: int, reason: str, actor) -> LedgerEntry:
    """Admin correction, either sign; never takes the balance below what is held."""
    if amount == 0:
        raise ValueError("An adjustment cannot be zero.")
    if not reason.strip():
        raise ValueError("A reason is required.")
    result = _apply(wallet_id=wallet.pk, amount=amount)
    if result is None:
        raise InsufficientCredits("The adjustment would take the balance below zero or below what is held.")
    balance, held = result
    return LedgerEntry.objects.create(
        wallet_id=wallet.pk,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        amount=amount,
        balance_after=balance,
        held_after=held,
        actor=actor,
        reason=reason,
    )


@transaction.atomic
def hold_place(*, wallet: Wallet, amount: int, generation=None, member=None) -> Hold:
    """Reserve `amount` if the available credits cover it, else raise InsufficientCredits."""
    if amount <= 0:
        raise ValueError("A hold must be positive.")
    result = _apply(wallet_id=wallet.pk, held_delta=amount)
    if result is None:
        raise InsufficientCredits("Not enough credits for this generation.")
    balance, held = result
    hold = Hold.objects.create(wallet_id=wallet.pk, generation=generation, member=member, amount=amount)
    LedgerEntry.objects.create(
        wallet_id=wallet.pk,
        kind=LedgerEntry.Kind.HOLD,
        held_delta=amount,
        balance_after=balance,
        held_after=held,
        hold=hold,
        generation=generation,
        actor=member,
        reason="Hold for generation",
    )
    return hold


def _settle(*, hold: Hold, state: str, captured: int | None, reason: str) -> bool:
    """Flip the hold from open exactly once; returns False if it was already settled."""
    with transaction.atomic():
        flipped = Hold.objects.filter(pk=hold.pk, state=Hold.State.OPEN).update(
            state=state, captured_amount=captured, settled_at=timezone.now()
        )
        if not flipped:
            return False
        balance, held = _apply(wallet_id=hold.wallet_id, amount=-(captured or 0), held_delta=-hold.amount)
        LedgerEntry.objects.create(
            wallet_id=hold.wallet_id,
            kind=LedgerEntry.Kind.CAPTURE if state == Hold.State.CAPTURED else LedgerEntry.Kind.RELEASE,
            amount=-(captured or 0),
            held_delta=-hold.amount,
            balance_after=balance,
            held_after=held,
            hold=hold,
            generation_id=hold.generation_id,
            actor=hold.member,
            reason=reason,
        )
        return True


def hold_capture(*, hold: Hold, amount: int | None = None, reason: str = "Generation succeeded") -> bool:
    """Charge `amount` (default: the whole hold, never more); the rest goes back to available."""
    captured = hold.amount if amount is None else amount
    if captured < 0 or captured > hold.amount:
        raise ValueError("A capture must be between zero and the hold.")
    return _settle(hold=hold, state=Hold.State.CAPTURED, captured=captured, reason=reason)


def hold_release(*, hold: Hold, reason: str = "Generation did not succeed") -> bool:
    return _settle(hold=hold, state=Hold.State.RELEASED, captured=None, reason=reason)
