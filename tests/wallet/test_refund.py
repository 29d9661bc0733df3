"""Refunds of finished generations: a ledger entry kind of its own, never more than the capture."""
import pytest

from apps.wallet.audit import wallet_audit
from apps.wallet.models import Hold, LedgerEntry, Wallet
from apps.wallet.refunds import RefundRefused, hold_refund, hold_refundable
from apps.wallet.services import hold_capture, hold_place, hold_release
from tests.conftest import personal_wallet

from .race import race

pytestmark = pytest.mark.pg


@pytest.fixture
def wallet(make_user):
    return personal_wallet(make_user())


def captured(wallet, amount=10_000, charge=8_000) -> Hold:
    hold = hold_place(wallet=wallet, amount=amount)
    hold_capture(hold=hold, amount=charge)
    return Hold.objects.get(pk=hold.pk)


@pytest.mark.django_db
def test_refund_gives_credits_back_as_its_own_entry_and_audit_stays_clean(wallet, make_user):
    admin = make_user("admin@example.com", is_staff=True)
    hold = captured(wallet)
    entry = hold_refund(hold=hold, amount=3_000, reason="Blurry result", actor=admin)
    wallet.refresh_from_db()
    assert (entry.kind, entry.amount, entry.held_delta, entry.reason, entry.actor) == ("refund", 3_000, 0, "Blurry result", admin)
    assert entry.balance_after == wallet.balance == 100_000 - 8_000 + 3_000
    assert hold_refundable(hold=hold) == 5_000
    assert wallet_audit() == []


@pytest.mark.django_db
def test_refunds_never_exceed_the_capture_and_need_a_reason(wallet):
    hold = captured(wallet)
    hold_refund(hold=hold, amount=5_000, reason="part", actor=None)
    with pytest.raises(RefundRefused) as info:
        hold_refund(hold=hold, amount=3_001, reason="too much", actor=None)
    assert info.value.code == "refund_refused" and "3" in info.value.message
    with pytest.raises(ValueError):
        hold_refund(hold=hold, amount=1_000, reason="  ", actor=None)
    with pytest.raises(ValueError):
        hold_refund(hold=hold, amount=0, reason="zero", actor=None)
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    hold_refund(hold=hold, amount=3_000, reason="the rest", actor=None)
    assert hold_refundable(hold=hold) == 0
    assert wallet_audit() == []


@pytest.mark.django_db
def test_released_or_open_holds_cannot_be_refunded(wallet):
    open_hold = hold_place(wallet=wallet, amount=1_000)
    released = hold_place(wallet=wallet, amount=1_000)
    hold_release(hold=released)
    for hold in (open_hold, released):
        with pytest.raises(RefundRefused):
            hold_refund(hold=hold, amount=500, reason="no", actor=None)


@pytest.mark.django_db
def test_audit_reports_a_refund_beyond_the_capture(wallet):
    hold = captured(wallet, charge=1_000)
    Wallet.objects.filter(pk=wallet.pk).update(balance=wallet.balance - 1_000 + 5_000)
    wallet.refresh_from_db()
    # A hand-made entry that keeps the balance consistent but refunds five times the capture.
    LedgerEntry.objects.create(wallet=wallet, kind="refund", amount=5_000, balance_after=wallet.balance,
                               held_after=wallet.held, hold=hold, reason="forged")
    assert any("exceed the capture" in problem for problem in wallet_audit())


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_of_one_generation_pay_out_once(wallet):
    hold = captured(wallet, amount=10_000, charge=10_000)

    def refund(p, t, i):
        try:
            hold_refund(hold=hold, amount=10_000, reason="race", actor=None)
            return "refunded"
        except RefundRefused:
            return "refused"

    results = race(refund, processes=2, threads=4, per_thread=2)
    assert results == {"refunded": 1, "refused": 15}
    wallet.refresh_from_db()
    assert wallet.balance == 100_000
    assert wallet_audit() == []
