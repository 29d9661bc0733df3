import threading

import pytest
from django.db import IntegrityError, connection, transaction

from apps.wallet.audit import wallet_audit
from apps.wallet.errors import InsufficientCredits
from apps.wallet.models import Hold, LedgerEntry, Wallet
from apps.wallet.services import hold_capture, hold_place, hold_release, wallet_adjust, wallet_grant
from tests.conftest import personal_wallet

pytestmark = pytest.mark.pg


@pytest.fixture
def wallet(make_user):
    wallet = personal_wallet(make_user())
    return wallet


@pytest.mark.django_db
def test_hold_then_capture_part_releases_the_rest(wallet):
    hold = hold_place(wallet=wallet, amount=30_000)
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held, wallet.available) == (100_000, 30_000, 70_000)
    assert hold_capture(hold=hold, amount=12_345)
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (100_000 - 12_345, 0)
    assert not hold_capture(hold=hold, amount=1)  # settles once
    assert not hold_release(hold=hold)
    assert wallet_audit() == []


@pytest.mark.django_db
def test_hold_that_does_not_fit_fails_and_writes_nothing(wallet):
    hold_place(wallet=wallet, amount=99_000)
    entries = LedgerEntry.objects.count()
    with pytest.raises(InsufficientCredits) as info:
        hold_place(wallet=wallet, amount=1_001)
    assert info.value.code == "insufficient_credits" and info.value.kind == "payment"
    assert LedgerEntry.objects.count() == entries and Hold.objects.count() == 1
    hold_place(wallet=wallet, amount=1_000)  # exactly the rest fits


@pytest.mark.django_db
def test_capture_cannot_exceed_hold(wallet):
    hold = hold_place(wallet=wallet, amount=5_000)
    with pytest.raises(ValueError):
        hold_capture(hold=hold, amount=5_001)
    assert Hold.objects.get(pk=hold.pk).state == "open"


@pytest.mark.django_db
def test_ledger_is_append_only_and_settlement_unique_in_the_database(wallet):
    hold = hold_place(wallet=wallet, amount=1_000)
    entry = LedgerEntry.objects.filter(wallet=wallet).first()
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    hold_release(hold=hold)
    w = Wallet.objects.get(pk=wallet.pk)
    # Even bypassing the service, the database refuses a second settlement of the same hold.
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(wallet=w, kind="capture", amount=-1, held_delta=0, balance_after=0, held_after=0, hold=hold)


@pytest.mark.django_db
def test_adjustment_needs_reason_and_cannot_go_below_held(wallet, make_user):
    admin = make_user(is_staff=True)
    with pytest.raises(ValueError):
        wallet_adjust(wallet=wallet, amount=5, reason=" ", actor=admin)
    hold_place(wallet=wallet, amount=60_000)
    with pytest.raises(InsufficientCredits):
        wallet_adjust(wallet=wallet, amount=-50_000, reason="chargeback", actor=admin)
    entry = wallet_adjust(wallet=wallet, amount=-40_000, reason="chargeback", actor=admin)
    assert entry.actor == admin and entry.balance_after == 60_000
    assert wallet_audit() == []


@pytest.mark.django_db
def test_audit_detects_a_tampered_balance(wallet):
    wallet_grant(wallet=wallet, amount=1, reason="x")
    Wallet.objects.filter(pk=wallet.pk).update(balance=1)
    problems = wallet_audit()
    assert any("balance 1 != ledger sum" in p for p in problems)


@pytest.mark.django_db(transaction=True)
def test_concurrent_holds_never_overspend(wallet):
    """40 threads race for a wallet that covers exactly 10 holds."""
    Wallet.objects.filter(pk=wallet.pk)  # wallet has 100 credits
    results = []
    barrier = threading.Barrier(8)

    def attempt():
        barrier.wait()
        for _ in range(5):
            try:
                hold_place(wallet=wallet, amount=10_000)
                results.append("ok")
            except InsufficientCredits:
                results.append("402")
        connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 10 and results.count("402") == 30
    wallet.refresh_from_db()
    assert wallet.held == 100_000 and wallet.available == 0
    assert wallet_audit() == []


@pytest.mark.django_db
def test_a_gated_capture_happens_only_with_its_gate_and_only_once(wallet):
    """hold_capture(gate=...) runs an UPDATE ... RETURNING first (on PostgreSQL in the capture's
    own statement): no row changed, no capture; a gate that passes on a settled hold raises, and
    the transaction takes the gate's write back."""
    from apps.core.db import update_statement

    from apps.accounts.models import Workspace

    gated = hold_place(wallet=wallet, amount=10_000)
    workspace = Workspace.objects.get(pk=wallet.workspace_id)
    untouched = update_statement(Workspace, where={"pk": workspace.pk, "name": "not its name"},
                                 values={"name": "renamed"})
    assert not hold_capture(hold=gated, amount=4_000, gate=untouched)
    assert Hold.objects.get(pk=gated.pk).state == "open"

    passing = update_statement(Workspace, where={"pk": workspace.pk}, values={"name": "renamed"})
    assert hold_capture(hold=gated, amount=4_000, gate=passing)
    assert Hold.objects.get(pk=gated.pk).state == "captured"
    with pytest.raises(RuntimeError, match="settled already"), transaction.atomic():
        hold_capture(hold=gated, amount=4_000, gate=passing)
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (100_000 - 4_000, 0)
    assert Workspace.objects.get(pk=workspace.pk).name == "renamed"
    assert wallet_audit() == []
