"""Every change to a wallet goes through here: one conditional UPDATE plus one ledger row,
in one transaction. The conditional UPDATE is the concurrency guard: the check and the take
are the same statement, so no interleaving can overspend (SQLite and PostgreSQL alike). The
statements themselves are in fastpath.py (raw SQL, and why).

Lock order, everywhere: hold row -> member spend row -> wallet row. Placing a hold takes the
spend row before the wallet row and settling does the same, so two transactions never wait
on each other in opposite orders (no deadlocks on PostgreSQL)."""
from __future__ import annotations

import csv
import io
import secrets
from datetime import date, datetime
from datetime import timezone as dt_timezone
from typing import Any, cast

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.catalog.money import format_credits
from apps.core.db import insert_statement

from .errors import (
    BudgetExceeded,
    InsufficientCredits,
    MemberCapExceeded,
    code_already_redeemed,
    code_exhausted,
    code_expired,
    code_invalid,
)
from .fastpath import (REFUSED_UNNAMED, budget_give_back, budget_take, hold_close, hold_open, member_spend_take,
                       wallet_move)
from .metrics import hold_event
from .models import Budget, Hold, LedgerEntry, MemberCap, MemberSpend, Redemption, RedemptionBatch, RedemptionCode, Wallet


def wallet_create(*, workspace) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(workspace=workspace)
    return wallet


def _record(*, wallet: Wallet, kind: str, amount: int, reason: str, actor) -> LedgerEntry | None:
    moved = wallet_move(wallet_id=wallet.pk, kind=kind, amount=amount, actor_id=actor.pk if actor else None,
                        reason=reason)
    return LedgerEntry.objects.get(pk=moved.entry_id) if moved else None


@transaction.atomic
def wallet_grant(*, wallet: Wallet, amount: int, reason: str, actor=None, kind: str = LedgerEntry.Kind.GRANT) -> LedgerEntry:
    if amount <= 0:
        raise ValueError("A grant must be positive.")
    if not reason.strip():
        raise ValueError("A reason is required.")
    return cast(LedgerEntry, _record(wallet=wallet, kind=kind, amount=amount, reason=reason, actor=actor))


@transaction.atomic
def wallet_adjust(*, wallet: Wallet, amount: int, reason: str, actor) -> LedgerEntry:
    """Admin correction, either sign; never takes the balance below what is held."""
    if amount == 0:
        raise ValueError("An adjustment cannot be zero.")
    if not reason.strip():
        raise ValueError("A reason is required.")
    entry = _record(wallet=wallet, kind=LedgerEntry.Kind.ADJUSTMENT, amount=amount, reason=reason, actor=actor)
    if entry is None:
        raise InsufficientCredits("The adjustment would take the balance below zero or below what is held.")
    return entry


# ---- member spend and caps ------------------------------------------------------------
def month_start(moment: datetime | None = None) -> date:
    """The spend month a moment belongs to (calendar month, UTC)."""
    moment = moment or timezone.now()
    return moment.astimezone(dt_timezone.utc).date().replace(day=1)


def member_cap_set(*, workspace, actor, user_id: int, cap: int | None):
    """Set a member's monthly spending cap on the team pool in millicredits (None = no cap).
    Only the team's owners and admins may; a lower cap applies to the next hold, and what is
    already held or spent this month still counts. Returns the member's Membership; raises the
    accounts' TeamError when the actor may not or the user is not in the team."""
    from apps.accounts.errors import TeamError
    from apps.accounts.services import membership_manager, membership_target

    membership_manager(workspace=workspace, actor=actor)
    if cap is not None and cap < 0:
        raise TeamError("invalid_cap", "A cap cannot be negative.")
    target = membership_target(workspace=workspace, user_id=user_id)
    wallet = Wallet.objects.get(workspace=workspace)
    if cap is None:
        MemberCap.objects.filter(wallet=wallet, member_id=target.user_id).delete()
    else:
        MemberCap.objects.update_or_create(wallet=wallet, member_id=target.user_id, defaults={"monthly_cap": cap})
    return target


def _spend_give_back(*, hold: Hold, amount: int) -> None:
    if amount <= 0:
        return
    if hold.spend_month is not None:
        MemberSpend.objects.filter(wallet_id=hold.wallet_id, member_id=hold.member_id, month=hold.spend_month).update(
            amount=F("amount") - amount
        )
    if hold.budget_id is not None and hold.budget_month is not None:
        budget_give_back(budget_id=hold.budget_id, month=hold.budget_month, amount=amount)


# ---- budgets (a spender's own credit limit on a wallet: API keys) ---------------------------
def budget_create(*, wallet: Wallet, label: str, lifetime_limit: int | None, monthly_limit: int | None) -> Budget:
    return Budget.objects.create(wallet=wallet, label=label[:120], lifetime_limit=lifetime_limit,
                                 monthly_limit=monthly_limit)


def budget_set_limits(*, budget_id: int, lifetime_limit: int | None, monthly_limit: int | None) -> None:
    """New limits apply to the next hold; what is held or spent already still counts."""
    Budget.objects.filter(pk=budget_id).update(lifetime_limit=lifetime_limit, monthly_limit=monthly_limit)


# ---- holds --------------------------------------------------------------------------------
def hold_place(*, wallet: Wallet, amount: int, generation=None, member=None, budget_id: int | None = None,
               savepoint: bool = True, insert_generation: bool = False) -> Hold:
    """Reserve `amount` if the available credits cover it, else raise InsufficientCredits.

    With a member, their monthly spend is checked against their cap (if any) and taken in the
    same transaction (MemberCapExceeded); with a budget (an API key's credit limit), its lifetime
    and monthly limits likewise (BudgetExceeded). Whichever refuses, the transaction rolls back
    and nothing remains. Returns the hold, built from the written values (no re-read).

    insert_generation: `generation` is not saved yet; it is inserted with the hold (on
    PostgreSQL in the hold's own statement: chat turns and submits pay one round trip for both).

    Called outside any transaction on PostgreSQL (a chat turn), that statement runs alone in
    autocommit: no BEGIN or COMMIT round trip (fastpath.hold_open, alone=True)."""
    if amount <= 0:
        raise ValueError("A hold must be positive.")
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # No transaction open (chat_open): the hold's one statement is its own transaction.
        hold = _hold_place(wallet=wallet, amount=amount, generation=generation, member=member, budget_id=budget_id,
                           insert_generation=insert_generation, alone=True)
        if hold is not None:
            return hold
        # A guard refused and nothing was written: the transactional statement below says which
        # one (or places the hold, if credits arrived in between).
    # savepoint=False is for callers whose transaction ends with the hold (generation_submit):
    # a refusal ends that transaction anyway, and SAVEPOINT plus RELEASE would be two more
    # round trips on every submit. Callers that catch a refusal and go on keep the default.
    with transaction.atomic(savepoint=savepoint):
        return cast(Hold, _hold_place(wallet=wallet, amount=amount, generation=generation, member=member,
                                      budget_id=budget_id, insert_generation=insert_generation))


REFUSALS = {
    "member_cap": lambda: MemberCapExceeded("This would take you over your monthly spending cap on this team's credits."),
    "budget": lambda: BudgetExceeded("This API key's credit limit would be passed; raise it on the API keys page."),
    "credits": lambda: InsufficientCredits("Not enough credits for this generation."),
}


def _hold_place(*, wallet: Wallet, amount: int, generation, member, budget_id: int | None,
                insert_generation: bool, alone: bool = False) -> Hold | None:
    """The hold, or (alone=True only) None when a guard refused and nothing was written."""
    month = month_start() if member is not None or budget_id is not None else None
    values: dict[str, Any] = {
        "wallet": wallet.pk, "generation": generation.pk if generation is not None else None,
        "member": member.pk if member is not None else None, "amount": amount, "state": Hold.State.OPEN,
        "created_at": timezone.now(), "spend_month": month if member is not None else None, "budget": budget_id,
        "budget_month": month if budget_id is not None else None,
    }
    if connection.vendor == "postgresql":
        placed = hold_open(hold=values, before=insert_statement(generation) if insert_generation else None,
                           alone=alone)
        if placed.refused == REFUSED_UNNAMED:
            return None
        if placed.refused:
            raise REFUSALS[placed.refused]()
        hold_id = placed.hold_id
    else:
        hold_id = _hold_place_in_steps(values, generation=generation, insert_generation=insert_generation)
    hold = Hold(
        pk=hold_id, wallet_id=wallet.pk, generation=generation, member=member, amount=amount,
        state=Hold.State.OPEN, created_at=values["created_at"], spend_month=values["spend_month"],
        budget_id=budget_id, budget_month=values["budget_month"],
    )
    hold._state.adding, hold._state.db = False, connection.alias
    transaction.on_commit(lambda: hold_event("placed", amount))  # counted only if it sticks
    return hold


def _hold_place_in_steps(values: dict, *, generation, insert_generation: bool) -> int:
    """SQLite: the same guards as hold_open, statement by statement (its IMMEDIATE transaction
    already serialises writers, and a statement costs no network round trip)."""
    if insert_generation:
        generation.save(force_insert=True)
    if values["member"] is not None and not member_spend_take(
            wallet_id=values["wallet"], member_id=values["member"], month=values["spend_month"],
            amount=values["amount"]):
        raise REFUSALS["member_cap"]()
    if values["budget"] is not None and not budget_take(budget_id=values["budget"], month=values["budget_month"],
                                                        amount=values["amount"]):
        raise REFUSALS["budget"]()
    moved = wallet_move(
        wallet_id=values["wallet"], kind=LedgerEntry.Kind.HOLD, held_delta=values["amount"],
        generation_id=values["generation"], actor_id=values["member"], reason="Hold for generation",
        new_hold=values,
    )
    if moved is None:
        raise REFUSALS["credits"]()
    return cast(int, moved.hold_id)  # wallet_move inserted the hold: it has an id


def _settle(*, hold: Hold, state: str, captured: int | None, reason: str, gate: tuple[str, list] | None = None) -> bool:
    """Flip the hold from open exactly once; returns False if it was already settled, or if
    `gate` (an UPDATE ... RETURNING that must change a row first) changed none.

    No savepoint when a caller's transaction is open (generation_finish, generation_fail): its
    RELEASE would be one more round trip while the wallet row is locked, and an error here
    fails the caller's whole transaction anyway."""
    kind = LedgerEntry.Kind.CAPTURE if state == Hold.State.CAPTURED else LedgerEntry.Kind.RELEASE
    event = "captured" if state == Hold.State.CAPTURED else "released"
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            settled = hold_close(hold=hold, state=state, captured=captured, kind=kind, reason=reason, gate=gate)
            if settled is None:
                raise RuntimeError(f"wallet {hold.wallet_id} refused settling hold {hold.pk}; run wallet_audit")
            if settled:
                transaction.on_commit(lambda: hold_event(event, captured if captured is not None else hold.amount))
            return settled
        if gate is not None:
            with connection.cursor() as cursor:
                cursor.execute(*gate)
                if cursor.fetchone() is None:
                    return False
        flipped = Hold.objects.filter(pk=hold.pk, state=Hold.State.OPEN).update(
            state=state, captured_amount=captured, settled_at=timezone.now()
        )
        if not flipped:
            if gate is not None:
                raise RuntimeError(f"hold {hold.pk} was settled already but its gate passed; run wallet_audit")
            return False
        _spend_give_back(hold=hold, amount=hold.amount - (captured or 0))
        moved = wallet_move(
            wallet_id=hold.wallet_id, kind=kind, amount=-(captured or 0), held_delta=-hold.amount, hold_id=hold.pk,
            generation_id=hold.generation_id, actor_id=hold.member_id, reason=reason,
        )
        if moved is None:
            # Cannot happen while balance >= held (captured <= amount); if the wallet was tampered
            # with, refuse loudly and roll the flip back rather than settle without an entry.
            raise RuntimeError(f"wallet {hold.wallet_id} refused settling hold {hold.pk}; run wallet_audit")
        transaction.on_commit(lambda: hold_event(event, captured if captured is not None else hold.amount))
        return True


def hold_capture(*, hold: Hold, amount: int | None = None, reason: str = "Generation succeeded",
                 gate: tuple[str, list] | None = None) -> bool:
    """Charge `amount` (default: the whole hold, never more); the rest goes back to available.

    gate: an UPDATE ... RETURNING (sql, params) that must change a row for the capture to
    happen, run first in the same statement on PostgreSQL (a chat turn's flip to succeeded)."""
    captured = hold.amount if amount is None else amount
    if captured < 0 or captured > hold.amount:
        raise ValueError("A capture must be between zero and the hold.")
    return _settle(hold=hold, state=Hold.State.CAPTURED, captured=captured, reason=reason, gate=gate)


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
