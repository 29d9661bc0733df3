import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.wallet.audit import wallet_audit
from apps.wallet.errors import RedemptionError
from apps.wallet.models import LedgerEntry, Redemption, RedemptionCode
from apps.wallet.services import code_normalize, redemption_batch_create, redemption_batch_csv, wallet_redeem
from tests.conftest import personal_wallet

pytestmark = pytest.mark.pg


def _batch(**kwargs):
    options = {"name": "Launch", "value": 25_000, "count": 3, "max_redemptions": 1}
    options.update(kwargs)
    return redemption_batch_create(**options)


def _code(batch):
    return batch.codes.order_by("pk").first().code


@pytest.mark.django_db
def test_redeem_adds_credits_with_a_redeem_entry(make_user):
    user = make_user()
    wallet = personal_wallet(user)
    code = _code(_batch())
    redemption = wallet_redeem(user=user, wallet=wallet, code=code.lower().replace("-", " "))
    wallet.refresh_from_db()
    assert wallet.balance == 125_000
    assert redemption.entry.kind == LedgerEntry.Kind.REDEEM and redemption.entry.actor == user
    assert RedemptionCode.objects.get(code=code).times_redeemed == 1
    assert wallet_audit() == []


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["", "nope", "ABCD-EFGH-JKMN-PQR0", "ZZZZ-ZZZZ-ZZZZ-ZZZZ"])
def test_unknown_codes_are_invalid(make_user, raw):
    user = make_user()
    with pytest.raises(RedemptionError) as info:
        wallet_redeem(user=user, wallet=personal_wallet(user), code=raw)
    assert info.value.code == "code_invalid" and info.value.kind == "not_found"


@pytest.mark.django_db
def test_expired_exhausted_and_already_redeemed(make_user):
    first, second, third = make_user(), make_user(), make_user()
    expired = _code(_batch(expires_at=timezone.now() - timedelta(seconds=1)))
    with pytest.raises(RedemptionError) as info:
        wallet_redeem(user=first, wallet=personal_wallet(first), code=expired)
    assert info.value.code == "code_expired"

    shared = _code(_batch(max_redemptions=2))
    wallet_redeem(user=first, wallet=personal_wallet(first), code=shared)
    with pytest.raises(RedemptionError) as info:
        wallet_redeem(user=first, wallet=personal_wallet(first), code=shared)
    assert info.value.code == "code_already_redeemed"
    wallet_redeem(user=second, wallet=personal_wallet(second), code=shared)
    with pytest.raises(RedemptionError) as info:
        wallet_redeem(user=third, wallet=personal_wallet(third), code=shared)
    assert info.value.code == "code_exhausted"
    assert personal_wallet(third).balance == 100_000  # nothing written on refusal
    assert RedemptionCode.objects.get(code=shared).times_redeemed == 2


@pytest.mark.django_db(transaction=True)
def test_racing_users_cannot_pass_max_redemptions(make_user):
    users = [make_user() for _ in range(8)]
    code = _code(_batch(max_redemptions=3))
    outcomes = []
    gate = threading.Barrier(len(users))

    def redeem(user):
        gate.wait()
        try:
            wallet_redeem(user=user, wallet=personal_wallet(user), code=code)
            outcomes.append("ok")
        except RedemptionError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["code_exhausted"] * 5 + ["ok"] * 3
    assert Redemption.objects.count() == 3 and RedemptionCode.objects.get(code=code).times_redeemed == 3
    assert wallet_audit() == []


@pytest.mark.django_db(transaction=True)
def test_same_user_redeeming_twice_at_once_gets_it_once(make_user):
    user = make_user()
    code = _code(_batch(max_redemptions=5))
    outcomes = []
    gate = threading.Barrier(4)

    def redeem():
        gate.wait()
        try:
            wallet_redeem(user=user, wallet=personal_wallet(user), code=code)
            outcomes.append("ok")
        except RedemptionError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["code_already_redeemed"] * 3 + ["ok"]
    assert personal_wallet(user).balance == 125_000
    assert RedemptionCode.objects.get(code=code).times_redeemed == 1  # the loser's increment rolled back


@pytest.mark.django_db
def test_batch_makes_distinct_normalised_codes_and_csv_lists_them():
    batch = _batch(count=50, value=1_500)
    codes = list(batch.codes.values_list("code", flat=True))
    assert len(set(codes)) == 50 and all(code_normalize(c) == c for c in codes)
    lines = redemption_batch_csv(batch=batch).strip().splitlines()
    assert lines[0].startswith("code,credits,max_redemptions")
    assert len(lines) == 51 and ",1.5,1,0," in lines[1]
    with pytest.raises(ValueError):
        redemption_batch_create(name="x", value=0, count=1)
