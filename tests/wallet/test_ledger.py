"""The ledger cannot be edited or deleted, not through the ORM and not with raw SQL."""
import pytest
from django.db import DatabaseError, connection, transaction

from apps.wallet.models import LedgerEntry
from apps.wallet.services import hold_place
from tests.conftest import personal_wallet

pytestmark = [pytest.mark.pg, pytest.mark.django_db]


def test_bulk_update_and_delete_are_refused(make_user):
    wallet = personal_wallet(make_user())
    with pytest.raises(ValueError):
        LedgerEntry.objects.filter(wallet=wallet).update(amount=1)
    with pytest.raises(ValueError):
        LedgerEntry.objects.filter(wallet=wallet).delete()


def test_raw_sql_update_is_refused_by_the_database(make_user):
    wallet = personal_wallet(make_user())
    entry = LedgerEntry.objects.filter(wallet=wallet).first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE wallet_ledgerentry SET amount = 999999999 WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == entry.amount


def test_raw_sql_delete_is_refused_on_postgresql(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no DELETE trigger: Django's test flush deletes rows with DELETE")
    wallet = personal_wallet(make_user())
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM wallet_ledgerentry WHERE wallet_id = %s", [wallet.pk])
    assert LedgerEntry.objects.filter(wallet=wallet).exists()


def test_every_balance_change_has_its_entry(make_user):
    """balance_after/held_after chain: each entry starts where the previous one ended."""
    wallet = personal_wallet(make_user())
    for amount in (1_000, 2_500, 7):
        hold_place(wallet=wallet, amount=amount)
    balance = held = 0
    for entry in LedgerEntry.objects.filter(wallet=wallet).order_by("id"):
        balance, held = balance + entry.amount, held + entry.held_delta
        assert (entry.balance_after, entry.held_after) == (balance, held)
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (balance, held)
