"""ads_create: copy from a text model, one composed image job per variant, all checked before any hold."""
import io

import numpy as np
import pytest
from PIL import Image

from apps.catalog.data import all_models
from apps.catalog.services import catalog_sync
from apps.generations.ads import ads_create, render_product_card
from apps.generations.errors import SubmitError
from apps.generations.models import Generation
from apps.generations.services import generation_run
from apps.wallet.audit import wallet_audit
from tests.support.images import data_uri, product_shot, reference_ad, template_match

pytestmark = pytest.mark.django_db

MODELS = {"gpt-5.6-luna", "nano-banana-pro", "sandbox-text", "sandbox-image", "dall-e-3"}


@pytest.fixture
def catalog(db):
    catalog_sync(entries=[entry for entry in all_models() if entry["slug"] in MODELS])


@pytest.fixture
def quiet(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)


def text_box(card: Image.Image) -> tuple[int, int, int, int]:
    pixels = np.asarray(card, dtype=np.int32)
    ys, xs = np.nonzero((pixels[..., 0] > 200) & (pixels[..., 2] < 150))  # the yellow lettering
    return int(xs.min()) - 4, int(ys.min()) - 4, int(xs.max()) + 5, int(ys.max()) + 5


def rendered(generation) -> Image.Image:
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "succeeded", generation.error_message
    output = generation.outputs.get()
    with output.file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def test_three_variants_compose_the_product_into_the_reference(owner, catalog, quiet):
    product = product_shot()
    campaign = ads_create(user=owner, workspace=owner.current_workspace,
                          reference_image_url=data_uri(reference_ad()), product_image_url=data_uri(product),
                          variants=3, tone="playful", language="English")
    assert campaign.created and len(campaign.generation_ids) == 3
    headlines = [variant.copy.headline for variant in campaign.variants]
    assert len(set(headlines)) == 3, headlines
    images = [rendered(variant.generation) for variant in campaign.variants]
    for variant, image in zip(campaign.variants, images):
        assert variant.generation.model.slug == "nano-banana-pro"
        assert variant.generation.params["image_urls"][1] == data_uri(product)
        assert f'"{variant.copy.headline}"' in variant.generation.params["prompt"]
        assert template_match(image, product)[0] > 0.9
    pixels = [image.tobytes() for image in images]
    assert len(set(pixels)) == 3
    # Each variant paid a text turn and an image; nothing else was held.
    turns = Generation.objects.filter(model__slug="gpt-5.6-luna")
    assert turns.count() == 3 and all(t.status == "succeeded" for t in turns)
    assert wallet_audit() == []


def test_a_product_given_as_text_is_rendered_and_placed(owner, catalog, quiet):
    campaign = ads_create(user=owner, workspace=owner.current_workspace,
                          reference_image_url=data_uri(reference_ad()), product_text="Lumen Bottle", variants=1)
    image = rendered(campaign.variants[0].generation)
    card = Image.open(io.BytesIO(render_product_card("Lumen Bottle"))).convert("RGB")
    score, scale = template_match(image, card)
    assert score > 0.9
    # The name itself (the lettering, cropped from the card) is in the ad, at the card's scale,
    # and nowhere in the reference.
    lettering = card.crop(text_box(card))
    near = [scale * step for step in np.linspace(0.94, 1.06, 13)]
    assert template_match(image, lettering, work=512, scales=near)[0] > 0.85
    assert template_match(reference_ad(), lettering, work=512, scales=near)[0] < 0.6


def test_idempotency_key_replays_the_campaign_without_new_charges(owner, catalog, quiet):
    options = dict(user=owner, workspace=owner.current_workspace, reference_image_url=data_uri(reference_ad()),
                   product_text="Lumen Bottle", variants=2, idempotency_key="camp-1")
    first = ads_create(**options)
    count = Generation.objects.count()
    again = ads_create(**options)
    assert not again.created and again.generation_ids == first.generation_ids
    assert [v.copy.headline for v in again.variants] == [v.copy.headline for v in first.variants]
    assert Generation.objects.count() == count
    with pytest.raises(SubmitError) as caught:
        ads_create(**{**options, "product_text": "Another Thing"})
    assert caught.value.code == "idempotency_conflict"


def test_bad_options_are_refused_before_anything_is_held(owner, catalog, quiet):
    base = dict(user=owner, workspace=owner.current_workspace, reference_image_url=data_uri(reference_ad()),
                product_text="Lumen")
    cases = [({"reference_image_url": "ftp://x"}, "reference_image_url"),
             ({"product_text": ""}, "product_image_url"),
             ({"variants": 0}, "variants"),
             ({"image_model": "dall-e-3"}, "image_model"),
             ({"copy_model": "nano-banana-pro"}, "copy_model"),
             ({"aspect_ratio": "7:3"}, "aspect_ratio")]
    for change, field in cases:
        with pytest.raises(SubmitError) as caught:
            ads_create(**{**base, **change})
        assert field in caught.value.fields, (change, caught.value.fields)
    with pytest.raises(SubmitError) as caught:
        ads_create(**{**base, "image_model": "no-such"})
    assert caught.value.code == "invalid_model"
    owner.current_workspace.wallet.__class__.objects.filter(pk=owner.current_workspace.wallet.pk).update(balance=1000)
    with pytest.raises(SubmitError) as caught:
        ads_create(**base)
    assert caught.value.code == "insufficient_credits"
    assert Generation.objects.count() == 0
