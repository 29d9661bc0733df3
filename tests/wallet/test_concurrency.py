"""Money under real concurrency: several OS processes, each with several threads and its own
database connections, racing on the same rows (PostgreSQL with --postgres, else SQLite)."""
import random
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from apps.accounts.models import Membership
from apps.accounts.services import team_create
from apps.catalog.models import AIModel
from apps.core.http import status_for
from apps.generations.models import Generation
from apps.generations.services import generation_fail, generation_finish, generations_sweep
from apps.providers.base import ProviderResult
from apps.wallet.audit import wallet_audit
from apps.wallet.errors import InsufficientCredits, MemberCapExceeded
from apps.wallet.models import Hold, LedgerEntry, MemberCap, MemberSpend, Wallet
from apps.wallet.services import hold_capture, hold_place, hold_release, wallet_grant
from tests.conftest import personal_wallet

from .race import race, scale

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]

HOLD = 1_000  # one credit


def _never_below_zero(wallet: Wallet):
    """Every state the wallet ever passed through is in the ledger: none may be negative."""
    bad = LedgerEntry.objects.filter(wallet=wallet).filter(
        Q(balance_after__lt=0) | Q(held_after__lt=0) | Q(balance_after__lt=F("held_after"))
    )
    assert not bad.exists()


def _settlements_per_hold(**filters):
    return Counter(
        Hold.objects.filter(**filters).annotate(
            n=Count("entries", filter=Q(entries__kind__in=[LedgerEntry.Kind.CAPTURE, LedgerEntry.Kind.RELEASE]))
        ).values_list("n", flat=True)
    )


def test_thousand_concurrent_holds_exactly_the_covered_ones_succeed(make_user):
    attempts = scale(1_000, 200)
    covered = attempts // 10
    team = team_create(user=make_user(), name="Hot wallet")
    wallet = Wallet.objects.get(workspace=team)
    wallet_grant(wallet=wallet, amount=covered * HOLD, reason="covers exactly the winners")
    wallet.refresh_from_db()
    assert wallet.available == covered * HOLD

    def attempt(p, t, i):
        try:
            hold_place(wallet=wallet, amount=HOLD)
            return "ok"
        except InsufficientCredits as exc:
            return f"{status_for(exc)}:{exc.code}"

    processes, threads = 4, 5
    results = race(attempt, processes=processes, threads=threads, per_thread=attempts // (processes * threads))
    assert results == {"ok": covered, "402:insufficient_credits": attempts - covered}
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held, wallet.available) == (covered * HOLD, covered * HOLD, 0)
    assert Hold.objects.filter(wallet=wallet).count() == covered
    assert LedgerEntry.objects.filter(wallet=wallet, kind="hold").count() == covered
    _never_below_zero(wallet)
    assert wallet_audit() == []
    call_command("wallet_audit")  # exits non-zero (CommandError) on any mismatch


def test_captures_and_releases_race_each_hold_settles_once(make_user):
    """Every hold is captured and released by several processes at once: one wins, once."""
    holds_count = scale(200, 60)
    wallet = personal_wallet(make_user())
    wallet_grant(wallet=wallet, amount=holds_count * HOLD, reason="test funds")
    holds = [hold_place(wallet=wallet, amount=HOLD) for _ in range(holds_count)]
    ids = [h.pk for h in holds]

    def settle(p, t, i):
        hold = Hold.objects.get(pk=ids[i])
        # Half the contenders capture (part of) the hold, half release it.
        if (p + t) % 2:
            return "captured" if hold_capture(hold=hold, amount=HOLD // 2) else "lost"
        return "released" if hold_release(hold=hold, reason="race") else "lost"

    results = race(settle, processes=3, threads=3, per_thread=holds_count)
    assert results["captured"] + results["released"] == holds_count
    assert results["lost"] == 9 * holds_count - holds_count
    assert _settlements_per_hold(pk__in=ids) == {1: holds_count}
    captured = Hold.objects.filter(pk__in=ids, state="captured").count()
    assert captured == results["captured"]
    wallet.refresh_from_db()
    assert wallet.held == 0
    assert wallet.balance == 100_000 + holds_count * HOLD - captured * (HOLD // 2)
    _never_below_zero(wallet)
    assert wallet_audit() == []


def test_finish_and_fail_race_the_deadline_sweeper(make_user, catalog):
    """Jobs past their deadline are swept while other processes finish or fail them."""
    count = scale(120, 40)
    user = make_user()
    wallet = personal_wallet(user)
    wallet_grant(wallet=wallet, amount=count * HOLD, reason="test funds")
    model = AIModel.objects.filter(enabled=True).first()
    past = timezone.now() - timedelta(seconds=1)
    ids = []
    for _ in range(count):
        generation = Generation.objects.create(
            workspace=wallet.workspace, user=user, model=model, params={"prompt": "race"}, price=HOLD,
            status=Generation.Status.RUNNING, deadline_at=past, next_check_at=past,
        )
        hold_place(wallet=wallet, amount=HOLD, generation=generation, member=user)
        ids.append(generation.pk)
    # Every contender walks the jobs in its own order, so each kind of contender wins some.
    order = {(p, t): random.Random(p * 10 + t).sample(ids, len(ids)) for p in range(3) for t in range(2)}

    def contend(p, t, i):
        if p == 0:  # the sweeper process: every thread sweeps until nothing is left
            swept = generations_sweep(limit=3)["failed"]
            return f"swept:{swept}" if swept else "swept:0"
        generation = Generation.objects.select_related("model").get(pk=order[p, t][i])
        if (p + t) % 2:
            done = generation_finish(generation=generation, result=ProviderResult(status="succeeded", text="done"))
            return "finished" if done else "late"
        done = generation_fail(generation=generation, code="upstream_error", message="race")
        return "failed" if done else "late"

    outcome = race(contend, processes=3, threads=2, per_thread=count)
    leftover = generations_sweep()["failed"]  # anything nobody reached
    swept = sum(int(label[6:]) * n for label, n in outcome.items() if label.startswith("swept:"))
    # Every job's final transition was won exactly once, by exactly one contender.
    assert outcome["finished"] + outcome["failed"] + swept + leftover == count
    statuses = Counter(Generation.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert sum(statuses.values()) == count and set(statuses) <= {"succeeded", "failed"}
    assert _settlements_per_hold(generation_id__in=ids) == {1: count}
    assert Hold.objects.filter(generation_id__in=ids, state="captured").count() == statuses["succeeded"]
    assert Hold.objects.filter(generation_id__in=ids, state="released").count() == statuses["failed"]
    wallet.refresh_from_db()
    assert wallet.held == 0
    assert wallet.balance == 100_000 + count * HOLD - statuses["succeeded"] * HOLD
    assert wallet_audit() == []


def _team_with_members(owner, members, *, pool_credits, caps):
    team = team_create(user=owner, name="Racers")
    wallet = Wallet.objects.get(workspace=team)
    wallet_grant(wallet=wallet, amount=pool_credits * HOLD, reason="pool")
    for member, cap in zip(members, caps):
        Membership.objects.create(workspace=team, user=member, role="member")
        MemberCap.objects.create(wallet=wallet, member=member, monthly_cap=cap)
    return team, Wallet.objects.get(pk=wallet.pk)


def _spend_matches_open_holds(wallet):
    held = dict(Hold.objects.filter(wallet=wallet, state="open").values("member").annotate(s=Sum("amount")).values_list("member", "s"))
    spend = dict(MemberSpend.objects.filter(wallet=wallet).values_list("member_id", "amount"))
    assert {k: v for k, v in spend.items() if v} == held


def test_member_caps_hold_under_concurrency(make_user):
    """Two capped members hammer an ample pool from several processes: each stops at the cap."""
    per_member = scale(60, 30)
    cap_holds = per_member // 2
    owner = make_user()
    members = [make_user(), make_user()]
    team, wallet = _team_with_members(owner, members, pool_credits=10 * per_member, caps=[cap_holds * HOLD] * 2)

    def spend(p, t, i):
        member = members[p % 2]
        try:
            hold_place(wallet=wallet, amount=HOLD, member=member)
            return f"ok:{member.pk}"
        except (InsufficientCredits, MemberCapExceeded) as exc:
            return f"{exc.code}:{member.pk}"

    # 4 processes, 2 per member, 3 threads each.
    results = race(spend, processes=4, threads=3, per_thread=per_member // 6)
    for member in members:
        assert results[f"ok:{member.pk}"] == cap_holds
        assert results[f"member_cap_exceeded:{member.pk}"] == per_member - cap_holds
    wallet.refresh_from_db()
    assert wallet.held == 2 * cap_holds * HOLD  # the refused holds left the pool untouched
    assert LedgerEntry.objects.filter(wallet=wallet, kind="hold").count() == 2 * cap_holds
    _spend_matches_open_holds(wallet)
    assert wallet_audit() == []


def test_member_caps_and_pool_balance_both_enforced_when_several_members_spend(make_user):
    """Three members, caps that add up to more than the pool: neither limit is ever passed."""
    per_member = scale(60, 24)
    pool_holds = per_member + per_member // 2  # less than the three caps together
    cap_holds = (2 * per_member) // 3
    owner = make_user()
    members = [make_user(), make_user(), make_user()]
    team, wallet = _team_with_members(owner, members, pool_credits=pool_holds, caps=[cap_holds * HOLD] * 3)

    def spend(p, t, i):
        member = members[t]
        try:
            hold_place(wallet=wallet, amount=HOLD, member=member)
            return f"ok:{t}"
        except (InsufficientCredits, MemberCapExceeded) as exc:
            return exc.code

    results = race(spend, processes=2, threads=3, per_thread=per_member // 2)
    successes = [results[f"ok:{t}"] for t in range(3)]
    assert sum(successes) == pool_holds  # the pool ran dry exactly
    assert all(s <= cap_holds for s in successes)
    assert results["insufficient_credits"] + results["member_cap_exceeded"] == 3 * per_member - pool_holds
    wallet.refresh_from_db()
    assert wallet.available == 0 and wallet.held == pool_holds * HOLD
    _spend_matches_open_holds(wallet)

    # Releasing every hold concurrently gives all spend back, once.
    ids = list(Hold.objects.filter(wallet=wallet).values_list("pk", flat=True))

    def release(p, t, i):
        return "released" if hold_release(hold=Hold.objects.get(pk=ids[i])) else "lost"

    results = race(release, processes=2, threads=2, per_thread=len(ids))
    assert results["released"] == len(ids)
    assert not MemberSpend.objects.filter(wallet=wallet).exclude(amount=0).exists()
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (pool_holds * HOLD, 0)
    assert wallet_audit() == []


def test_first_spends_of_a_month_race_without_a_wrong_402(make_user):
    """Rounds of 1,000 holds at once on a fresh personal wallet (no cap, funds for all): the
    first ones race to create the month's spend row. Before the spend upsert, a request that
    missed the row while another created it answered 402 member_cap_exceeded."""
    rounds, attempts = scale(10, 3), scale(1_000, 100)
    processes, threads = 4, 5
    for round_number in range(rounds):
        user = make_user()
        wallet = personal_wallet(user)
        wallet_grant(wallet=wallet, amount=attempts * HOLD, reason="covers every attempt")

        def attempt(p, t, i):
            try:
                hold_place(wallet=wallet, amount=HOLD, member=user)
                return "ok"
            except (InsufficientCredits, MemberCapExceeded) as exc:
                return f"{exc.status}:{exc.code}"

        results = race(attempt, processes=processes, threads=threads, per_thread=attempts // (processes * threads))
        assert results == {"ok": attempts}, f"round {round_number}: {dict(results)}"
        assert MemberSpend.objects.get(wallet=wallet, member=user).amount == attempts * HOLD
        _spend_matches_open_holds(wallet)
    assert wallet_audit() == []
