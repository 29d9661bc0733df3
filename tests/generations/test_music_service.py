"""music_submit: reference 001's song options mapped onto each music model's own parameters."""
import pytest

from apps.catalog.data import all_models
from apps.catalog.models import AIModel
from apps.catalog.services import catalog_sync
from apps.generations.errors import SubmitError
from apps.generations.music import music_params, music_submit

pytestmark = pytest.mark.django_db

MUSIC = {"sandbox-music", "ace-step", "minimax-music-1.5", "elevenlabs-music", "lyria-2", "sandbox-image"}


@pytest.fixture
def catalog(db):
    catalog_sync(entries=[entry for entry in all_models() if entry["slug"] in MUSIC])


@pytest.fixture
def quiet(monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)


def model(slug):
    return AIModel.objects.get(slug=slug)


def test_every_option_lands_on_a_model_that_takes_them_all(catalog):
    params, ignored = music_params(model("sandbox-music"), prompt="a song about lighthouses", style="folk",
                                   lyrics="[verse]\nLights on the water", title="Harbour", duration=20)
    assert params == {"prompt": "a song about lighthouses", "style": "folk", "lyrics": "[verse]\nLights on the water",
                      "title": "Harbour", "duration": 20}
    assert ignored == []


def test_style_joins_the_prompt_and_unknown_hints_are_listed(catalog):
    params, ignored = music_params(model("ace-step"), prompt="rainy night drive", style="lofi, mellow",
                                   instrumental=True, title="Wipers", duration=45)
    assert params == {"prompt": "lofi, mellow, rainy night drive", "instrumental": True, "duration": 45}
    assert ignored == ["title"]
    params, ignored = music_params(model("lyria-2"), prompt="calm strings", instrumental=True, duration=30)
    assert params == {"prompt": "calm strings"} and ignored == ["duration"]


def test_options_a_model_cannot_honour_are_refused_by_name(catalog):
    with pytest.raises(SubmitError) as caught:
        music_params(model("elevenlabs-music"), prompt="pop anthem", lyrics="la la la la la")
    assert caught.value.fields.keys() == {"lyrics"}
    with pytest.raises(SubmitError) as caught:
        music_params(model("minimax-music-1.5"), prompt="a jazz ballad", instrumental=True)
    assert caught.value.fields.keys() == {"instrumental"}
    with pytest.raises(SubmitError) as caught:
        music_params(model("sandbox-music"), prompt="x", lyrics="words", instrumental=True)
    assert caught.value.fields.keys() == {"lyrics"}
    with pytest.raises(SubmitError) as caught:
        music_params(model("sandbox-music"), prompt="")
    assert caught.value.fields.keys() == {"prompt"}


def test_submit_holds_one_song_and_replays_an_idempotency_key(owner, catalog, quiet):
    first = music_submit(user=owner, workspace=owner.current_workspace, prompt="sea shanty", style="folk",
                         title="Anchors", duration=12, model="sandbox-music", idempotency_key="k1")
    assert first.created and first.generation.status == "queued" and first.generation.params["title"] == "Anchors"
    again = music_submit(user=owner, workspace=owner.current_workspace, prompt="sea shanty", style="folk",
                         title="Anchors", duration=12, model="sandbox-music", idempotency_key="k1")
    assert not again.created and again.generation.pk == first.generation.pk


def test_model_must_exist_and_make_music(owner, catalog):
    with pytest.raises(SubmitError) as caught:
        music_submit(user=owner, workspace=owner.current_workspace, prompt="x", model="no-such-model")
    assert caught.value.code == "invalid_model" and caught.value.kind == "not_found"
    with pytest.raises(SubmitError) as caught:
        music_submit(user=owner, workspace=owner.current_workspace, prompt="x", model="sandbox-image")
    assert caught.value.fields.keys() == {"model"}
    with pytest.raises(SubmitError) as caught:  # the model's own validator still runs
        music_submit(user=owner, workspace=owner.current_workspace, prompt="x", model="sandbox-music", duration=2)
    assert "duration" in caught.value.fields
