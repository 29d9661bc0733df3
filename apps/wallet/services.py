"""Every change to a wallet goes through here: one conditional UPDATE plus one ledger row,
in one transaction. The conditional UPDATE is the concurrency guard: the check and the take
are the same statement, so no interleaving can overspend (SQLite and PostgreSQL alike).

Lock order, everywhere: hold row -> member spend row -> wallet row. Placing a hold takes the
spend row before the wallet row and settling does the same, so two transactions never wait
on each other in opposite orders (no deadlocks on PostgreSQL)."""
from __future__ import annotations

import csv
import io
import secrets
from datetime import date, datetime
from datetime import timezone as dt_timezone

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from .errors import (
    InsufficientCredits,
    MemberCapExceeded,
    code_already_redeemed,
    code_exhausted,
    code_expired,
    code_invalid,
)
from .models import Hold, LedgerEntry, MemberSpend, Redemption, RedemptionBatch, RedemptionCode, Wallet
from .money import format_credits


def wallet_create(*, workspace) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(workspace=workspace)
    return wallet


def _apply(*, wallet_id: int, amount: int = 0, held_delta: int = 0) -> tuple[int, int] | None:
    """Move balance and held in one conditional UPDATE that keeps balance >= held afterwards.

    Returns (balance, held) after the change, or None when the guard refused it. RETURNING
    (PostgreSQL, SQLite >= 3.35) hands back the new values without a second query, which keeps
    the time the hot wallet row stays locked as short as it can be."""
    table = connection.ops.quote_name(Wallet._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET balance = balance + %s, held = held + %s, updated_at = %s "
            f"WHERE id = %s AND balance >= held + %s RETURNING balance, held",
            [amount, held_delta, now, wallet_id, held_delta - amount],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


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


# ---- member caps on team pools ------------------------------------------------------------
def month_start(moment: datetime | None = None) -> date:
    """The spend month a moment belongs to (calendar month, UTC)."""
    moment = moment or timezone.now()
    return moment.astimezone(dt_timezone.utc).date().replace(day=1)


def _spend_take(*, wallet: Wallet, member, amount: int) -> date | None:
    """Count `amount` against the member's monthly spend on a team pool, refusing it with
    MemberCapExceeded if it would pass their cap. One conditional UPDATE: the check and the
    increment are one statement, and it runs in the caller's transaction with the wallet UPDATE.

    Returns the month charged, or None when nothing is tracked (personal workspace, non-member)."""
    from apps.accounts.models import Membership, Workspace

    row = (
        Membership.objects.filter(workspace_id=wallet.workspace_id, user=member)
        .values_list("monthly_cap", "workspace__kind")
        .first()
    )
    if row is None or row[1] != Workspace.Kind.TEAM:
        return None
    cap, _ = row
    month = month_start()
    counter = MemberSpend.objects.filter(wallet_id=wallet.pk, member=member, month=month)
    guarded = counter if cap is None else counter.filter(amount__lte=cap - amount)
    if guarded.update(amount=F("amount") + amount):
        return month
    if not counter.exists():
        # First spend of the month: make the row (a concurrent first spend may win; fine) and retry.
        MemberSpend.objects.bulk_create([MemberSpend(wallet_id=wallet.pk, member=member, month=month)], ignore_conflicts=True)
        if guarded.update(amount=F("amount") + amount):
            return month
    raise MemberCapExceeded("This would take you over your monthly spending cap on this team's credits.")


def _spend_give_back(*, hold: Hold, amount: int) -> None:
    if hold.spend_month is None or amount <= 0:
        return
    MemberSpend.objects.filter(wallet_id=hold.wallet_id, member_id=hold.member_id, month=hold.spend_month).update(
        amount=F("amount") - amount
    )


# ---- holds --------------------------------------------------------------------------------
@transaction.atomic
def hold_place(*, wallet: Wallet, amount: int, generation=None, member=None) -> Hold:
    """Reserve `amount` if the available credits cover it, else raise InsufficientCredits.

    On a team pool the member's monthly cap is checked and taken in the same transaction
    (MemberCapExceeded); whichever refuses, the transaction rolls back and nothing remains."""
    if amount <= 0:
        raise ValueError("A hold must be positive.")
    spend_month = _spend_take(wallet=wallet, member=member, amount=amount) if member is not None else None
    # The hold row goes in before the wallet UPDATE so the wallet row stays locked only for the
    # UPDATE, one ledger INSERT and the commit.
    hold = Hold.objects.create(
        wallet_id=wallet.pk, generation=generation, member=member, amount=amount, spend_month=spend_month
    )
    result = _apply(wallet_id=wallet.pk, held_delta=amount)
    if result is None:
        raise InsufficientCredits("Not enough credits for this generation.")
    balance, held = result
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
        _spend_give_back(hold=hold, amount=hold.amount - (captured or 0))
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


# ---- redemption codes ---------------------------------------------------------------------
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed by people
CODE_GROUPS = 4
CODE_GROUP_LEN = 4


def code_normalize(raw: str) -> str | None:
    """'abcd efgh-jkmn-pqrs' -> 'ABCD-EFGH-JKMN-PQRS'; None when it cannot be a code."""
    chars = "".join(c for c in (raw or "").upper() if c.isalnum())
    if len(chars) != CODE_GROUPS * CODE_GROUP_LEN or any(c not in CODE_ALPHABET for c in chars):
        return None
    return "-".join(chars[i:i + CODE_GROUP_LEN] for i in range(0, len(chars), CODE_GROUP_LEN))


def _code_new() -> str:
    return "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LEN)) for _ in range(CODE_GROUPS))


@transaction.atomic
def redemption_batch_create(
    *, name: str, value: int, count: int, max_redemptions: int = 1, expires_at: datetime | None = None, actor=None
) -> RedemptionBatch:
    """Make `count` codes worth `value` millicredits each, each redeemable by `max_redemptions` users."""
    if value <= 0 or count <= 0 or max_redemptions <= 0:
        raise ValueError("Value, count and max redemptions must be positive.")
    if count > 10_000:
        raise ValueError("At most 10,000 codes per batch.")
    batch = RedemptionBatch.objects.create(
        name=name, value=value, max_redemptions=max_redemptions, expires_at=expires_at, created_by=actor
    )
    codes: set[str] = set()
    while len(codes) < count:  # 80 random bits per code: a collision is practically impossible
        codes.add(_code_new())
    RedemptionCode.objects.bulk_create([RedemptionCode(batch=batch, code=code) for code in sorted(codes)])
    return batch


def redemption_batch_csv(*, batch: RedemptionBatch) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "credits", "max_redemptions", "times_redeemed", "expires_at", "batch"])
    expires = batch.expires_at.isoformat() if batch.expires_at else ""
    for code, times in batch.codes.order_by("code").values_list("code", "times_redeemed"):
        writer.writerow([code, format_credits(batch.value), batch.max_redemptions, times, expires, batch.name])
    return out.getvalue()


def wallet_redeem(*, user, wallet: Wallet, code: str) -> Redemption:
    """Add a code's value to `wallet`, once per user and at most max_redemptions times per code.

    Raises RedemptionError with code_invalid, code_expired, code_exhausted or
    code_already_redeemed; on any error nothing is written."""
    normalized = code_normalize(code)
    found = RedemptionCode.objects.select_related("batch").filter(code=normalized).first() if normalized else None
    if found is None:
        raise code_invalid()
    batch = found.batch
    if batch.expires_at is not None and batch.expires_at <= timezone.now():
        raise code_expired()
    if Redemption.objects.filter(code=found, user=user).exists():
        raise code_already_redeemed()
    try:
        with transaction.atomic():
            # The counter is the guard: two users racing for the last redemption cannot both pass.
            taken = RedemptionCode.objects.filter(pk=found.pk, times_redeemed__lt=batch.max_redemptions).update(
                times_redeemed=F("times_redeemed") + 1
            )
            if not taken:
                raise code_exhausted()
            entry = wallet_grant(
                wallet=wallet, amount=batch.value, reason=f"Redeemed code {found.code} ({batch.name})",
                actor=user, kind=LedgerEntry.Kind.REDEEM,
            )
            # unique (code, user): the same user redeeming twice at once loses here, and the
            # counter increment and the grant above roll back with it.
            return Redemption.objects.create(code=found, user=user, wallet=wallet, entry=entry)
    except IntegrityError:
        raise code_already_redeemed() from None
