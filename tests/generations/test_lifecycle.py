"""The life of a generation in-process: submit, run, finish, fail, cancel, sweep."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.catalog.models import AIModel
from apps.generations.errors import SubmitError
from apps.generations.models import Generation
from apps.generations.services import (
    generation_cancel,
    generation_run,
    generation_submit,
    generations_sweep,
)
from apps.wallet.audit import wallet_audit
from apps.wallet.models import Hold
from tests.conftest import personal_wallet

pytestmark = [pytest.mark.pg, pytest.mark.django_db]


@pytest.fixture
def image_model(catalog):
    return AIModel.objects.get(slug="sandbox-image")


@pytest.fixture
def no_enqueue(monkeypatch):
    """Submit without a broker: tests drive generation_run themselves."""
    calls = []
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: calls.append(gid))
    return calls


def submit(user, model, **params):
    return generation_submit(user=user, workspace=user.current_workspace, model=model,
                             raw_params={"prompt": "a red fox", **params})[0]


def test_submit_holds_exact_quote_and_enqueues_after_commit(owner, image_model, no_enqueue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        generation = submit(owner, image_model, n=2, size="512x512")
    assert generation.status == "queued" and generation.price == 1_000  # 2 images x 1 credit x 0.5
    assert [queued.pk for queued in no_enqueue] == [generation.pk]
    wallet = personal_wallet(owner)
    assert wallet.held == 1_000 and Hold.objects.get(generation=generation).amount == 1_000


def test_run_stores_png_with_webp_thumbnail_and_captures(owner, image_model, no_enqueue):
    generation = submit(owner, image_model, size="512x512", seed=7)
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "succeeded" and generation.charged == generation.price
    output = generation.outputs.get()
    assert output.mime == "image/png" and (output.width, output.height) == (512, 512)
    assert output.file.read()[:8] == b"\x89PNG\r\n\x1a\n"
    assert output.thumbnail.read()[8:12] == b"WEBP" and output.web.name.endswith(".webp")
    wallet = personal_wallet(owner)
    assert wallet.balance == 100_000 - generation.price and wallet.held == 0
    assert generation.attempts.get().outcome == "ok"
    assert wallet_audit() == []


def test_running_twice_does_nothing_the_second_time(owner, image_model, no_enqueue):
    generation = submit(owner, image_model, size="512x512")
    generation_run(generation_id=generation.pk)
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.outputs.count() == 1 and generation.attempts.count() == 1
    assert personal_wallet(owner).balance == 100_000 - generation.price


def test_failure_releases_the_hold_with_a_clear_error(owner, image_model, no_enqueue, monkeypatch):
    from apps.providers.base import ContentFiltered

    def refuse(self, job):
        raise ContentFiltered("The prompt was blocked by the content policy.")

    monkeypatch.setattr("apps.providers.adapters.sandbox.SandboxAdapter.submit", refuse)
    generation = submit(owner, image_model)
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "failed" and generation.error_code == "content_filtered"
    assert "content policy" in generation.error_message
    wallet = personal_wallet(owner)
    assert wallet.balance == 100_000 and wallet.held == 0
    assert Hold.objects.get(generation=generation).state == "released"
    assert wallet_audit() == []


def test_cancel_releases_once(owner, image_model, no_enqueue):
    generation = submit(owner, image_model)
    assert generation_cancel(generation=generation)
    assert not generation_cancel(generation=generation)
    generation.refresh_from_db()
    assert generation.status == "canceled"
    generation_run(generation_id=generation.pk)  # a late message does nothing
    assert Generation.objects.get(pk=generation.pk).status == "canceled"
    assert personal_wallet(owner).held == 0


def test_sweeper_fails_jobs_past_deadline_and_requeues_lost_ones(owner, image_model, no_enqueue):
    late = submit(owner, image_model)
    lost = submit(owner, image_model, prompt="a blue whale")
    Generation.objects.filter(pk=late.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    Generation.objects.filter(pk=lost.pk).update(next_check_at=timezone.now() - timedelta(seconds=1))
    no_enqueue.clear()
    result = generations_sweep()
    assert result["failed"] == 1 and result["requeued"] == 1
    assert Generation.objects.get(pk=late.pk).error_code == "deadline_exceeded"
    assert no_enqueue == [lost.pk]
    assert wallet_audit() == []


def test_a_claim_past_deadline_fails_instead_of_running(owner, image_model, no_enqueue):
    generation = submit(owner, image_model)
    Generation.objects.filter(pk=generation.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "failed" and generation.error_code == "deadline_exceeded"
    assert generation.outputs.count() == 0


def test_insufficient_credits_creates_nothing(owner, image_model, no_enqueue):
    for _ in range(25):
        submit(owner, image_model, n=4)  # 4 credits each: 100 credits in total
    with pytest.raises(SubmitError) as info:
        submit(owner, image_model)
    assert info.value.code == "insufficient_credits" and info.value.kind == "payment"
    assert Generation.objects.count() == 25


@pytest.mark.parametrize(
    "params, field, text",
    [
        ({"prompt": ""}, "prompt", "Prompt is required."),
        ({"prompt": "x" * 2001}, "prompt", "at most 2000 characters"),
        ({"size": "999x999"}, "size", "must be one of"),
        ({"n": 9}, "n", "at most 4"),
        ({"n": "two"}, "n", "whole number"),
        ({"style": "oil"}, "style", "Unknown parameter"),
    ],
)
def test_invalid_params_name_the_field_and_write_nothing(owner, image_model, no_enqueue, params, field, text):
    with pytest.raises(SubmitError) as info:
        submit(owner, image_model, **params)
    assert info.value.code == "invalid_request" and info.value.kind == "invalid"
    assert any(text in message for message in info.value.fields[field])
    assert Generation.objects.count() == 0 and Hold.objects.count() == 0


def test_idempotency_key_replays_and_refuses_different_params(owner, image_model, no_enqueue):
    first, created = generation_submit(user=owner, workspace=owner.current_workspace, model=image_model,
                                       raw_params={"prompt": "a cat"}, idempotency_key="k1")
    again, created_again = generation_submit(user=owner, workspace=owner.current_workspace, model=image_model,
                                             raw_params={"prompt": "a cat"}, idempotency_key="k1")
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(SubmitError) as info:
        generation_submit(user=owner, workspace=owner.current_workspace, model=image_model,
                          raw_params={"prompt": "a dog"}, idempotency_key="k1")
    assert info.value.code == "idempotency_conflict" and info.value.kind == "conflict"
    assert Generation.objects.count() == 1
