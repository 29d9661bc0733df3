"""Finishing a job: the media work (decode, thumbnails, storage writes) happens before the
write transaction, which stays a few short statements; a finish that does not commit leaves
no files behind. Uses real database transactions (transactional_db), not the test wrapper."""
import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage, storages
from django.db import connection
from django.utils import timezone
from PIL import Image

from apps.catalog.models import AIModel
from apps.generations import media
from apps.generations.models import Generation, Output
from apps.generations.services import generation_fail, generation_finish
from apps.providers.base import OutputFile, ProviderResult
from apps.wallet.models import Hold
from apps.wallet.services import hold_place
from tests.conftest import personal_wallet

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]


def png(size=(640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 90, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def running(make_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    user = make_user()
    model = AIModel.objects.create(slug="img-finish", name="img", vendor="x", modality="image",
                                   schema={"fields": []}, pricing={"unit": "image", "credits": "1"})
    generation = Generation.objects.create(workspace=personal_wallet(user).workspace, user=user, model=model,
                                           params={}, price=1_000, status=Generation.Status.RUNNING,
                                           deadline_at=timezone.now() + timedelta(minutes=5))
    hold_place(wallet=personal_wallet(user), amount=1_000, generation=generation, member=user)
    return Generation.objects.select_related("model").get(pk=generation.pk)


@pytest.fixture
def watched(monkeypatch):
    """Records, for every thumbnail made and every file written, whether a transaction was open."""
    seen = {"encode": [], "write": [], "names": []}
    make = media.image_derivatives

    def image_derivatives(data):
        seen["encode"].append(connection.in_atomic_block)
        return make(data)

    backend = type(storages["default"])  # whatever the storage is (local disk, S3): its write hook
    save = backend._save

    def storage_save(self, name, content):
        seen["write"].append(connection.in_atomic_block)
        written = save(self, name, content)
        seen["names"].append(written)
        return written

    monkeypatch.setattr(media, "image_derivatives", image_derivatives)
    monkeypatch.setattr(backend, "_save", storage_save)
    return seen


def result_with_images(count=2):
    return ProviderResult(status="succeeded", outputs=[OutputFile(mime="image/png", data=png()) for _ in range(count)])


def test_thumbnails_and_files_are_made_with_no_transaction_open(running, watched):
    assert not connection.in_atomic_block
    assert generation_finish(generation=running, result=result_with_images(2))
    assert watched["encode"] == [False, False]
    assert len(watched["write"]) == 6 and not any(watched["write"])  # original, thumbnail, web version x 2
    running.refresh_from_db()
    assert running.status == "succeeded" and running.outputs.count() == 2
    assert Hold.objects.get(generation=running).state == "captured"
    for output in Output.objects.filter(generation=running):
        assert default_storage.exists(output.file.name) and default_storage.exists(output.thumbnail.name)


def test_a_finish_that_loses_the_race_leaves_no_files(running, watched, monkeypatch):
    # The deadline sweeper fails the job while this worker is still making thumbnails.
    make = media.image_derivatives

    def slow_derivatives(data):
        if not Generation.objects.filter(pk=running.pk, status="failed").exists():
            generation_fail(generation=running, code="deadline_exceeded", message="swept")
        return make(data)

    monkeypatch.setattr(media, "image_derivatives", slow_derivatives)
    assert generation_finish(generation=running, result=result_with_images(2)) is False
    running.refresh_from_db()
    assert running.status == "failed" and not running.outputs.exists()
    assert watched["names"] and not any(default_storage.exists(name) for name in watched["names"])
    assert Hold.objects.get(generation=running).state == "released"


def test_a_finish_whose_transaction_fails_leaves_no_files_and_no_rows(running, watched, monkeypatch):
    def capture_crashes(**kwargs):
        raise RuntimeError("database went away mid-capture")

    monkeypatch.setattr("apps.generations.services.hold_capture", capture_crashes)
    with pytest.raises(RuntimeError):
        generation_finish(generation=running, result=result_with_images(1))
    running.refresh_from_db()
    assert running.status == "running" and not running.outputs.exists()  # rolled back: a later poll may finish it
    assert len(watched["names"]) == 3 and not any(default_storage.exists(name) for name in watched["names"])
    assert Hold.objects.get(generation=running).state == "open"


def test_an_output_that_does_not_decode_leaves_no_files_and_fails_the_job(running, watched):
    outputs = [OutputFile(mime="image/png", data=png()), OutputFile(mime="image/png", data=b"not a png")]
    assert generation_finish(generation=running, result=ProviderResult(status="succeeded", outputs=outputs)) is False
    running.refresh_from_db()
    assert running.status == "failed" and running.error_code == "output_invalid"
    assert watched["names"] and not any(default_storage.exists(name) for name in watched["names"])
