"""Two owners leaving at the same moment: one leaves, the other stays as the last owner."""
import threading

import pytest
from django.db import connection

from apps.accounts.errors import TeamError
from apps.accounts.models import Membership
from apps.accounts.services import membership_leave, membership_set_role

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]


def test_two_owners_leaving_at_once_leave_one_owner(team, owner, teammate):
    membership_set_role(workspace=team, actor=owner, user_id=teammate.pk, role="owner")
    outcomes = []
    gate = threading.Barrier(2)

    def leave(user):
        gate.wait()
        try:
            membership_leave(workspace=team, user=user)
            outcomes.append("left")
        except TeamError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=leave, args=(u,)) for u in (owner, teammate)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["last_owner", "left"]
    assert Membership.objects.filter(workspace=team, role="owner").count() == 1
