"""Per-member monthly caps on a team pool: taken with the hold, given back on settle."""
from datetime import date, datetime
from datetime import timezone as dt_timezone
from unittest import mock

import pytest

from apps.wallet.audit import wallet_audit
from apps.wallet.errors import InsufficientCredits, MemberCapExceeded
from apps.wallet.models import Hold, LedgerEntry, MemberCap, MemberSpend, Wallet
from apps.wallet.services import hold_capture, hold_place, hold_release, month_start
from tests.conftest import personal_wallet

pytestmark = [pytest.mark.pg, pytest.mark.django_db]


@pytest.fixture
def pool(team):
    return Wallet.objects.get(workspace=team)


def _cap(team, user, credits):
    MemberCap.objects.filter(wallet__workspace=team, member=user).delete()
    if credits is not None:
        MemberCap.objects.create(wallet=Wallet.objects.get(workspace=team), member=user, monthly_cap=credits * 1000)


def _spent(pool, user, month=None):
    row = MemberSpend.objects.filter(wallet=pool, member=user, month=month or month_start()).first()
    return row.amount if row else 0


def test_member_over_cap_gets_402_and_the_pool_is_untouched(team, pool, teammate):
    _cap(team, teammate, 10)
    hold_place(wallet=pool, amount=6_000, member=teammate)
    entries, holds = LedgerEntry.objects.count(), Hold.objects.count()
    with pytest.raises(MemberCapExceeded) as info:
        hold_place(wallet=pool, amount=4_001, member=teammate)
    assert (info.value.code, info.value.kind) == ("member_cap_exceeded", "payment")
    assert (LedgerEntry.objects.count(), Hold.objects.count()) == (entries, holds)
    pool.refresh_from_db()
    assert pool.held == 6_000
    assert _spent(pool, teammate) == 6_000
    hold_place(wallet=pool, amount=4_000, member=teammate)  # exactly up to the cap
    assert _spent(pool, teammate) == 10_000


def test_pool_refusal_does_not_count_against_the_cap(team, pool, teammate):
    _cap(team, teammate, 1_000)
    with pytest.raises(InsufficientCredits):
        hold_place(wallet=pool, amount=500_001, member=teammate)
    assert _spent(pool, teammate) == 0  # the spend increment rolled back with the refused hold


def test_release_gives_back_and_partial_capture_gives_back_the_rest(team, pool, teammate):
    _cap(team, teammate, 10)
    first = hold_place(wallet=pool, amount=8_000, member=teammate)
    hold_capture(hold=first, amount=3_000)
    assert _spent(pool, teammate) == 3_000
    second = hold_place(wallet=pool, amount=7_000, member=teammate)
    hold_release(hold=second)
    hold_release(hold=second)  # settling twice gives back once
    assert _spent(pool, teammate) == 3_000
    hold_place(wallet=pool, amount=7_000, member=teammate)
    with pytest.raises(MemberCapExceeded):
        hold_place(wallet=pool, amount=1, member=teammate)
    assert wallet_audit() == []


def test_uncapped_member_is_tracked_but_only_limited_by_the_pool(team, pool, owner):
    hold_place(wallet=pool, amount=400_000, member=owner)
    assert _spent(pool, owner) == 400_000
    with pytest.raises(InsufficientCredits):
        hold_place(wallet=pool, amount=100_001, member=owner)


def test_personal_wallets_count_spend_without_a_cap(owner):
    wallet = personal_wallet(owner)
    hold_place(wallet=wallet, amount=99_000, member=owner)
    assert _spent(wallet, owner) == 99_000
    with pytest.raises(InsufficientCredits):
        hold_place(wallet=wallet, amount=1_001, member=owner)
    assert _spent(wallet, owner) == 99_000 and wallet_audit() == []


def test_month_rollover_starts_a_fresh_counter_and_old_holds_give_back_to_their_month(team, pool, teammate):
    _cap(team, teammate, 10)
    may = datetime(2026, 5, 31, 23, 59, tzinfo=dt_timezone.utc)
    june = datetime(2026, 6, 1, 0, 1, tzinfo=dt_timezone.utc)
    with mock.patch("apps.wallet.services.timezone.now", return_value=may):
        old = hold_place(wallet=pool, amount=9_000, member=teammate)
        with pytest.raises(MemberCapExceeded):
            hold_place(wallet=pool, amount=2_000, member=teammate)
    with mock.patch("apps.wallet.services.timezone.now", return_value=june):
        hold_place(wallet=pool, amount=10_000, member=teammate)  # a new month, a full cap
        hold_release(hold=old)
    assert old.spend_month == date(2026, 5, 1)
    assert _spent(pool, teammate, date(2026, 5, 1)) == 0
    assert _spent(pool, teammate, date(2026, 6, 1)) == 10_000


def test_lowering_a_cap_below_current_spend_blocks_further_holds(team, pool, teammate):
    hold_place(wallet=pool, amount=5_000, member=teammate)
    _cap(team, teammate, 2)
    with pytest.raises(MemberCapExceeded):
        hold_place(wallet=pool, amount=1, member=teammate)
    _cap(team, teammate, 0)
    with pytest.raises(MemberCapExceeded):
        hold_place(wallet=pool, amount=1, member=teammate)


def test_submit_over_the_cap_answers_member_cap_exceeded_and_creates_nothing(team, pool, teammate, catalog):
    from apps.catalog.models import AIModel
    from apps.generations.errors import SubmitError
    from apps.generations.models import Generation
    from apps.generations.services import generation_quote, generation_submit

    model = AIModel.objects.get(slug="sandbox-image") if AIModel.objects.filter(slug="sandbox-image").exists() \
        else AIModel.objects.filter(enabled=True, modality="image").first()
    params = {"prompt": "a lighthouse"}
    price = generation_quote(model=model, raw_params=params).price
    _cap(team, teammate, 0)
    with pytest.raises(SubmitError) as info:
        generation_submit(user=teammate, workspace=team, model=model, raw_params=params)
    assert (info.value.code, info.value.kind) == ("member_cap_exceeded", "payment")
    assert not Generation.objects.exists() and not Hold.objects.exists()
    pool.refresh_from_db()
    assert (pool.balance, pool.held) == (500_000, 0) and price > 0


def test_audit_checks_member_spend_against_holds(team, pool, teammate):
    from django.core.management import CommandError, call_command

    capture = hold_place(wallet=pool, amount=3_000, member=teammate)
    hold_capture(hold=capture, amount=1_000)
    hold_place(wallet=pool, amount=2_000, member=teammate)
    hold_release(hold=hold_place(wallet=pool, amount=4_000, member=teammate))
    assert _spent(pool, teammate) == 3_000 and wallet_audit() == []
    MemberSpend.objects.filter(wallet=pool, member=teammate).update(amount=2_999)
    assert any("member spend" in p and "!= holds and captures 3000" in p for p in wallet_audit())
    with pytest.raises(CommandError):
        call_command("wallet_audit")
