"""Uploads (checked by content, stored like outputs) and Atelier's own files used as inputs:
recognised, owned by the workspace, read from storage and never fetched over HTTP."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.catalog.models import AIModel
from apps.generations.errors import SubmitError, UploadError
from apps.generations.formats import outputs_in_requested_format
from apps.generations.models import Generation
from apps.generations.services import generation_run, generation_submit
from apps.core.http import status_for
from apps.generations.inputs import job_inputs
from apps.generations.storage import media_name_for_url, media_url
from apps.generations.uploads import upload_create, upload_url
from apps.providers.base import OutputFile
from apps.wallet.audit import wallet_audit

pytestmark = pytest.mark.django_db


def png_bytes(size=(64, 48), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(user, data: bytes, name="frame.png", content_type="image/png"):
    return upload_create(user=user, workspace=user.current_workspace,
                         file=SimpleUploadedFile(name, data, content_type=content_type))


@pytest.fixture
def no_enqueue(monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown=None: None)


@pytest.fixture
def no_http(monkeypatch):
    """Any server-side fetch fails the test: Atelier files must come from storage."""
    def refuse(url, **kwargs):
        raise AssertionError(f"fetched over HTTP: {url}")

    monkeypatch.setattr("apps.providers.safe_http.safe_get", refuse)
    monkeypatch.setattr("apps.providers.sandbox.sources.safe_get", refuse)


def test_an_image_upload_is_typed_by_content_and_stored_with_a_thumbnail(owner, settings):
    settings.SITE_URL = "https://atelier.example.com"
    item = upload(owner, png_bytes(), name="../../evil.exe", content_type="application/x-msdownload")
    assert (item.kind, item.mime, item.width, item.height) == ("image", "image/png", 64, 48)
    assert item.file.name.startswith(f"uploads/{owner.current_workspace.pk}/") and item.file.name.endswith("/original.png")
    assert item.thumbnail.read()[8:12] == b"WEBP"
    assert item.original_name == "evil.exe"  # display only; the stored name is ours
    url = upload_url(item)
    assert url.startswith("https://atelier.example.com/files/uploads/")
    assert media_name_for_url(url) == (item.file.name, True)  # a signed link, still valid


def test_a_video_upload_is_probed(owner):
    from apps.providers.sandbox.video import render_video

    data, _spec = render_video({"prompt": "waves", "duration": 1, "resolution": "480p", "aspect_ratio": "1:1"})
    item = upload(owner, data, name="clip.bin", content_type="text/plain")
    assert (item.kind, item.mime) == ("video", "video/mp4") and item.duration and item.thumbnail


@pytest.mark.parametrize("data, code, status", [
    (b"", "upload_empty", 400),
    (b"MZ\x90\x00 this is a program", "upload_unsupported_type", 415),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "upload_unreadable", 400),  # the magic bytes lie
])
def test_bad_uploads_get_a_stable_code_and_store_nothing(owner, data, code, status):
    from apps.generations.models import Upload

    with pytest.raises(UploadError) as info:
        upload(owner, data)
    assert (info.value.code, status_for(info.value)) == (code, status)
    assert Upload.objects.count() == 0


def test_uploads_over_the_size_limit_are_refused(owner, settings):
    settings.UPLOAD_MAX_MB = 1
    with pytest.raises(UploadError) as info:
        upload(owner, png_bytes() + b"\x00" * (1024 * 1024))
    assert (info.value.code, status_for(info.value)) == ("upload_too_large", 413)


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:8000/files/uploads/1/2026/01/x/original.png", ("uploads/1/2026/01/x/original.png", False)),
    ("/files/outputs/2026/01/abc/0.png?e=1&s=zz", ("outputs/2026/01/abc/0.png", False)),  # a bad signature
    ("https://example.com/files/uploads/1/a.png", None),  # somebody else's host, unsigned
    ("http://127.0.0.1:8000/admin/", None),
    ("data:image/png;base64,AAAA", None),
])
def test_the_recogniser_knows_atelier_media_urls_signed_or_not(url, expected, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert media_name_for_url(url) == expected


def test_an_upload_animates_into_a_video_read_from_storage(owner, catalog, no_enqueue, no_http, monkeypatch):
    monkeypatch.setattr("apps.providers.adapters.sandbox.READY_AFTER_SECONDS", 0.0)  # no waiting on a clock
    model = AIModel.objects.get(slug="sandbox-video")
    frame = upload(owner, png_bytes((96, 64), (10, 200, 40)))
    generation, _ = generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                                      raw_params={"prompt": "grass in wind", "image_url": upload_url(frame),
                                                  "duration": 1, "resolution": "480p"})
    assert generation.params["image_url"] == upload_url(frame)  # the job keeps the Atelier URL
    generation_run(generation_id=generation.pk)
    from apps.generations.services import generation_poll

    Generation.objects.filter(pk=generation.pk).update(next_check_at=generation.created_at)  # the poll is due
    generation_poll(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "succeeded", generation.error_message
    assert generation.outputs.get().kind == "video"
    assert wallet_audit() == []


@pytest.mark.pg  # also on PostgreSQL: JSON search, uuid keyset and date truncation differ per backend
def test_an_output_of_the_workspace_is_accepted_as_input_and_others_are_not(owner, outsider, catalog, no_enqueue, no_http):
    image_model = AIModel.objects.get(slug="sandbox-image")
    first, _ = generation_submit(user=owner, workspace=owner.current_workspace, model=image_model,
                                 raw_params={"prompt": "a red fox", "size": "512x512"})
    generation_run(generation_id=first.pk)
    stored = first.outputs.get().file
    unsigned = media_url(stored).split("?", 1)[0]  # an expired or bare link: only ownership lets it in
    video = AIModel.objects.get(slug="sandbox-video")
    params = {"prompt": "the fox runs", "image_url": unsigned, "duration": 1, "resolution": "480p"}
    mine, _ = generation_submit(user=owner, workspace=owner.current_workspace, model=video, raw_params=params)
    resolved, sources = job_inputs(generation=mine)
    assert resolved["image_url"] != unsigned and sources == {resolved["image_url"]: stored.name}  # read from storage
    with pytest.raises(SubmitError) as info:
        generation_submit(user=outsider, workspace=outsider.current_workspace, model=video, raw_params=params)
    assert "not in your workspace" in info.value.fields["image_url"][0]
    # Whoever holds a valid signed link may read the file anyway, so such a link is let through.
    theirs, _ = generation_submit(user=outsider, workspace=outsider.current_workspace, model=video,
                                  raw_params={**params, "image_url": media_url(stored)})
    assert job_inputs(generation=theirs)[1]
    # A deleted job's files stop being usable through bare links, even by its own workspace.
    Generation.objects.filter(pk=first.pk).update(deleted_at=first.created_at)
    assert job_inputs(generation=mine) == (mine.params, {})


def test_an_atelier_url_that_names_no_file_is_refused_at_submit(owner, catalog, no_enqueue, settings):
    video = AIModel.objects.get(slug="sandbox-video")
    with pytest.raises(SubmitError) as info:
        generation_submit(user=owner, workspace=owner.current_workspace, model=video, raw_params={
            "prompt": "x", "image_url": f"{settings.SITE_URL}/files/uploads/{owner.current_workspace.pk}/2026/01/"
                                        "0123456789abcdef0123456789abcdef/original.png"})
    assert "image_url" in info.value.fields and Generation.objects.count() == 0


def test_the_requested_image_format_is_honoured():
    files = [OutputFile(mime="image/png", data=png_bytes()), OutputFile(mime="audio/mpeg", data=b"ID3")]
    converted = outputs_in_requested_format(files, {"output_format": "webp"})
    assert converted[0].mime == "image/webp" and converted[0].data[8:12] == b"WEBP"
    assert converted[1] is files[1]
    jpeg = outputs_in_requested_format(files, {"output_format": "jpeg"})[0]
    assert jpeg.mime == "image/jpeg" and jpeg.data[:3] == b"\xff\xd8\xff"
    assert outputs_in_requested_format(files, {}) is files

