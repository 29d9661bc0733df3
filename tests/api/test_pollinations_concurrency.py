"""Identical pollinations GETs arriving together pay for one job (PostgreSQL with --postgres)."""
import pytest
from django.test import Client

from apps.accounts.services import user_onboard
from apps.api.services import api_key_create
from apps.generations.models import Generation
from apps.wallet.audit import wallet_audit
from apps.wallet.models import Hold
from tests.wallet.race import race

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]


def test_identical_gets_at_once_make_one_job_and_one_hold(make_user, catalog, settings, monkeypatch):
    # No worker: each request gives up waiting at once and names the task it would poll.
    settings.API_SYNC_WAIT_SECONDS = 0
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    user = make_user("racer@example.com")
    user_onboard(user=user)
    secret = api_key_create(user=user, workspace=user.current_workspace, name="race").secret

    def get(process, thread, i):
        response = Client().get("/image/a%20lighthouse%20in%20fog?model=sandbox-image&seed=3",
                                HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response.status_code == 504, response.content
        return response.json()["error"]["task_id"]

    answers = race(get, processes=3, threads=4, per_thread=2)
    assert sum(answers.values()) == 24
    (task_id,) = answers  # every request names the same task
    assert Generation.objects.count() == 1 and str(Generation.objects.get().pk) == task_id
    assert Hold.objects.count() == 1 and wallet_audit() == []
