"""POST /v1/uploads: the studio's uploads for programs (multipart `file`, the same checks), and the
answered URL used as a job input, read from storage when the job runs."""
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.api.services import api_key_create
from apps.generations.models import Generation, Upload
from apps.generations.storage import media_name_for_url
from apps.wallet.audit import wallet_audit

pytestmark = pytest.mark.django_db


def png(size=(96, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 160, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client, auth, data: bytes, name="frame.png", content_type="image/png", path="/v1/uploads"):
    return client.post(path, {"file": SimpleUploadedFile(name, data, content_type=content_type)}, **auth)


def test_an_upload_answers_its_url_and_is_stored_in_the_key_workspace(client, auth, member):
    response = upload(client, auth, png(), name="start frame.png", content_type="application/octet-stream")
    assert response.status_code == 201, response.content
    body = response.json()
    item = Upload.objects.get()
    assert (body["object"], body["kind"], body["mime"], body["width"], body["height"]) == (
        "upload", "image", "image/png", 96, 64)
    assert body["id"] == str(item.pk) and body["filename"] == "start frame.png" and body["bytes"] == len(png())
    assert media_name_for_url(body["url"]) == (item.file.name, True)
    assert item.workspace == member.current_workspace and item.user == member
    assert upload(client, auth, png(), path="/api/v1/uploads").status_code == 201  # both mounts


@pytest.mark.parametrize("data, content_type, status, code", [
    (b"MZ\x90\x00 a program", "image/png", 415, "upload_unsupported_type"),
    (b"", "image/png", 400, "upload_empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 300, "image/png", 400, "upload_unreadable"),
])
def test_bad_files_get_a_stable_code_and_store_nothing(client, auth, data, content_type, status, code):
    response = upload(client, auth, data, content_type=content_type)
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert Upload.objects.count() == 0


def test_an_upload_over_the_limit_is_413(client, auth, settings):
    settings.UPLOAD_MAX_MB = 1
    response = upload(client, auth, png() + b"\x00" * (1024 * 1024 + 1))
    assert response.status_code == 413 and response.json()["error"]["code"] == "upload_too_large"
    assert Upload.objects.count() == 0


def test_a_body_without_the_file_field_names_it(client, auth):
    json_body = client.post("/v1/uploads", data=json.dumps({"file": "x"}), content_type="application/json", **auth)
    other_field = client.post("/v1/uploads", {"image": SimpleUploadedFile("a.png", png())}, **auth)
    for response in (json_body, other_field):
        assert response.status_code == 400 and response.json()["error"]["param"] == "file"
    assert Upload.objects.count() == 0


def test_keys_without_generate_and_publishable_keys_cannot_upload(client, member):
    reader = api_key_create(user=member, workspace=member.current_workspace, name="reader",
                            permissions=["account:balance"])
    publishable = api_key_create(user=member, workspace=member.current_workspace, name="browser", kind="publishable",
                                 allowed_models=["flux-schnell"])
    for key in (reader, publishable):
        response = upload(client, {"HTTP_AUTHORIZATION": f"Bearer {key.secret}"}, png())
        assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert upload(client, {}, png()).status_code == 401
    assert Upload.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_frame_animates_into_a_video_and_others_cannot_use_it(client, auth, member, make_user, eager,
                                                                          monkeypatch):
    monkeypatch.setattr("apps.providers.adapters.sandbox.READY_AFTER_SECONDS", 0.0)
    url = upload(client, auth, png()).json()["url"]
    bare = url.split("?", 1)[0]  # an expired link: only the workspace that owns the file may use it
    submit = {"model": "sandbox-video", "params": {"prompt": "grass in wind", "image_url": bare, "duration": 1,
                                                   "resolution": "480p"}}
    response = client.post("/v1/generations", data=json.dumps(submit), content_type="application/json", **auth)
    assert response.status_code == 202, response.content
    generation = Generation.objects.get(pk=response.json()["id"])
    from apps.generations.services import generation_poll

    for _ in range(5):
        generation.refresh_from_db()
        if not generation.is_pending:
            break
        Generation.objects.filter(pk=generation.pk).update(next_check_at=generation.created_at)
        generation_poll(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "succeeded", generation.error_message
    assert generation.outputs.get().kind == "video"

    outsider = make_user("outsider@example.com")
    from apps.accounts.services import user_onboard

    user_onboard(user=outsider)
    key = api_key_create(user=outsider, workspace=outsider.current_workspace, name="theirs")
    refused = client.post("/v1/generations", data=json.dumps(submit), content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {key.secret}")
    assert refused.status_code == 400 and "image_url" in refused.json()["error"]["fields"]
    assert wallet_audit() == []
