"""Inputs in the studio: the upload endpoint, uploads posted with the form (no JavaScript),
the picker of the workspace's results, and "use as input" from a result."""
import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.generations.models import Generation, Upload
from apps.generations.storage import media_name_for_url

from .conftest import HX, make_job

pytestmark = pytest.mark.django_db


def stored_name(url: str) -> str | None:
    """The storage name behind one of Atelier's signed media URLs (they change with the clock)."""
    found = media_name_for_url(html.unescape(url))
    return found[0] if found else None


def names_in(page: str, attribute: str = "value") -> set:
    """Storage names of the media URLs in the page's `attribute` attributes."""
    return {stored_name(url) for url in re.findall(rf'{attribute}="([^"]*/files/[^"]*)"', page)}


def png(size=(80, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_endpoint_answers_the_atelier_url(logged_in, owner):
    response = logged_in.post("/uploads", {"file": SimpleUploadedFile("frame.png", png(), content_type="image/png")})
    assert response.status_code == 201
    data = response.json()
    upload = Upload.objects.get()
    assert stored_name(data["url"]) == upload.file.name and data["kind"] == "image" and data["thumbnail"]
    assert upload.workspace == owner.current_workspace and upload.user == owner


def test_upload_endpoint_refuses_bad_files_with_a_stable_code(logged_in):
    response = logged_in.post("/uploads", {"file": SimpleUploadedFile("notes.txt", b"just text", content_type="image/png")})
    assert response.status_code == 415 and response.json()["error"]["code"] == "upload_unsupported_type"
    assert logged_in.post("/uploads", {}).json()["error"]["code"] == "upload_missing"
    assert Upload.objects.count() == 0


def test_anonymous_cannot_upload(client, catalog):
    response = client.post("/uploads", {"file": SimpleUploadedFile("f.png", png())})
    assert response.status_code == 302 and Upload.objects.count() == 0


def test_a_file_posted_with_the_form_becomes_the_start_frame(logged_in, owner, no_enqueue):
    response = logged_in.post("/models/sandbox-video/generate", {
        "prompt": "waves", "duration": "1", "resolution": "480p", "aspect_ratio": "1:1", "fps": "24",
        "image_url__file": SimpleUploadedFile("start.png", png(), content_type="image/png"),
    })
    assert response.status_code == 302
    generation = Generation.objects.get()
    assert stored_name(generation.params["image_url"]) == Upload.objects.get().file.name


def test_a_bad_file_posted_with_the_form_is_a_field_error(logged_in, no_enqueue):
    response = logged_in.post("/models/sandbox-video/generate", {
        "prompt": "waves", "image_url__file": SimpleUploadedFile("start.png", b"nope", content_type="image/png"),
    }, **HX)
    assert "This file type is not accepted" in response.content.decode() and Generation.objects.count() == 0


def test_the_media_fields_have_drop_zones_with_the_right_accept(logged_in):
    page = logged_in.get("/models/sandbox-video/").content.decode()
    assert 'data-dropzone data-kind="image" data-target="id_image_url"' in page
    assert re.search(r'<input type="file" name="image_url__file"[^>]*accept="image/png,image/jpeg,image/webp,image/gif"', page)


def test_use_as_input_lists_models_that_take_the_result_and_fills_the_field(logged_in, owner, no_enqueue):
    job = make_job(owner)
    output = job.outputs.get()
    card = logged_in.get("/history/").content.decode()
    assert f'href="/?use=o-{output.pk}&amp;modality=video"' in card and ">Animate</a>" in card
    gallery = logged_in.get(f"/?use=o-{output.pk}&modality=video").content.decode()
    assert 'data-testid="use-banner"' in gallery and "Sandbox Video" in gallery and "Sandbox Music" not in gallery
    assert f'href="/models/sandbox-video/?use=o-{output.pk}"' in gallery
    studio = logged_in.get(f"/models/sandbox-video/?use=o-{output.pk}").content.decode()
    assert output.file.name in names_in(studio)


def test_use_as_input_ignores_someone_elses_result(owner, outsider, client, catalog, no_enqueue):
    output = make_job(owner).outputs.get()
    client.force_login(outsider)
    studio = client.get(f"/models/sandbox-video/?use=o-{output.pk}").content.decode()
    assert output.file.name not in names_in(studio) and output.file.name not in studio
    assert 'data-testid="use-banner"' not in client.get(f"/?use=o-{output.pk}").content.decode()


def test_the_picker_offers_the_workspace_results_and_uploads_of_a_kind(logged_in, owner, outsider, no_enqueue):
    mine = make_job(owner).outputs.get()
    theirs = make_job(outsider).outputs.get()
    logged_in.post("/uploads", {"file": SimpleUploadedFile("mine.png", png(), content_type="image/png")})
    body = logged_in.get("/uploads/picker?kind=image&field=id_image_url", **HX).content.decode()
    picked = names_in(body, "data-pick")
    assert mine.file.name in picked and theirs.file.name not in picked
    assert body.count("data-pick=") == 2 and 'data-field="id_image_url"' in body
    assert "data-pick=" not in logged_in.get("/uploads/picker?kind=audio", **HX).content.decode()
