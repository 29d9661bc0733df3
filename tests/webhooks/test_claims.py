"""A delivery try runs once however many workers and sweeps reach it at the same time."""
from __future__ import annotations

import pytest
from django.utils import timezone

from apps.catalog.models import AIModel
from apps.generations.models import Generation
from apps.generations.services import generation_submit
from apps.webhooks.models import Attempt, Delivery, Event
from apps.webhooks.services import delivery_attempt, endpoint_create
from tests.wallet.race import race

from .receiver import Receiver

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]


def test_concurrent_tries_of_one_delivery_send_once(member, settings):
    receiver = Receiver().start()
    settings.SAFE_FETCH_ALLOW_HOSTS = [receiver.host]
    try:
        endpoint, _ = endpoint_create(workspace=member.current_workspace, user=member, url=receiver.url())
        generation, _ = generation_submit(user=member, workspace=member.current_workspace,
                                          model=AIModel.objects.get(slug="sandbox-image"),
                                          raw_params={"prompt": "x"})
        Generation.objects.filter(pk=generation.pk).update(status="succeeded")
        event = Event.objects.create(id="msg_race", workspace=member.current_workspace, generation=generation,
                                     type="generation.succeeded", created_at=timezone.now())
        delivery = Delivery.objects.create(event=event, endpoint=endpoint, url=endpoint.url,
                                           next_attempt_at=timezone.now())

        outcomes = race(lambda p, t, i: "sent" if delivery_attempt(delivery_id=delivery.pk) else "skipped",
                        processes=2, threads=4, per_thread=1)
        assert outcomes == {"sent": 1, "skipped": 7}
        assert len(receiver.requests) == 1 and Attempt.objects.count() == 1
        assert Delivery.objects.get().state == Delivery.State.SUCCEEDED
    finally:
        receiver.stop()
