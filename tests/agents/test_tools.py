"""The agent tools without a transport: source media mapping, errors an agent can act on,
"is this yours", and key restrictions."""
from __future__ import annotations

import dataclasses

import pytest

from apps.accounts.services import user_onboard
from apps.agents.schemas import map_source_media, url_kind
from apps.agents.server import error_object, tool_call
from apps.api.services import api_key_create, api_key_principal
from apps.catalog.models import AIModel
from apps.core.errors import ApplicationError, Kind
from apps.generations.models import Generation
from apps.wallet.models import Wallet


@pytest.fixture
def principal(make_user, catalog):
    user = make_user("agent@example.com")
    user_onboard(user=user)
    return api_key_principal(secret=api_key_create(user=user, workspace=user.current_workspace, name="a").secret)


def _model(slug):
    return AIModel.objects.get(slug=slug)


def test_source_media_fill_the_model_inputs_by_kind_and_order(catalog):
    start, end, ref = "https://cdn.example/start.png", "https://cdn.example/end.jpg", "https://cdn.example/ref.webp"
    assert map_source_media(_model("seedance-1-lite"), [start, end], {}) == {"image_url": start, "end_image_url": end}
    assert map_source_media(_model("seedance-1-lite"), [start, end, ref], {}) == {
        "image_url": start, "end_image_url": end, "media_urls": [ref]}
    # A sound goes to the audio input wherever it stands; options already set are kept.
    song = "https://cdn.example/track.mp3?sig=1"
    assert map_source_media(_model("wan-2.5"), [song, start], {}) == {"audio_url": song, "image_url": start}
    assert map_source_media(_model("seedance-1-lite"), [end], {"image_url": start}) == {
        "image_url": start, "end_image_url": end}
    assert map_source_media(_model("gpt-image-2"), [start, end, ref], {}) == {"image_urls": [start, end, ref]}
    assert url_kind("data:audio/wav;base64,AAAA") == "audio" and url_kind("https://x.example/clip.MP4") == "video"


@pytest.mark.parametrize("slug, urls, message", [
    ("flux-schnell", ["https://cdn.example/a.png"], "takes no input media"),
    ("veo-3.1", [f"https://cdn.example/{n}.png" for n in range(6)], "item 6 (image) has no free input"),
    ("sandbox-image", ["https://cdn.example/a.mp3"], "item 1 (audio) has no free input"),
])
def test_source_media_that_do_not_fit_are_refused_with_the_argument(principal, slug, urls, message):
    result = tool_call(principal, "generate_media", {"model": slug, "prompt": "x", "source_media_urls": urls})
    error = result.structured_content["error"]
    assert result.is_error and error["param"] == "source_media_urls" and message in error["message"]
    assert Generation.objects.count() == 0


def test_invalid_parameters_name_the_tool_argument(principal):
    def error_of(arguments):
        result = tool_call(principal, "generate_media", {"model": "sandbox-video", **arguments})
        assert result.is_error
        return result.structured_content["error"]

    assert error_of({"prompt": "x", "options": {"duration": 99}})["param"] == "options.duration"
    assert error_of({"prompt": "x" * 2001})["param"] == "prompt"
    end_only = error_of({"prompt": "x", "options": {"end_image_url": "https://cdn.example/e.png"}})
    assert end_only["param"] == "options.image_url" and "start frame" in end_only["message"]
    typo = error_of({"prompt": "x", "option": {}})
    assert typo["param"] == "option" and typo["fields"]["option"] == ["Unknown argument."]
    assert error_of({"prompt": "x", "options": {"colour": "red"}})["param"] == "options.colour"
    wrong = tool_call(principal, "generate_media", {"model": "minimax-music-1.5", "prompt": "x"})
    assert wrong.structured_content["error"]["code"] == "invalid_model"
    unknown = tool_call(principal, "generate_media", {"model": "no-such-model", "prompt": "x"})
    assert unknown.structured_content["error"]["code"] == "invalid_model"
    assert Generation.objects.count() == 0


def test_insufficient_credits_says_the_price_and_what_is_available(principal):
    Wallet.objects.filter(pk=principal.wallet.pk).update(balance=500)  # 0.5 credits
    result = tool_call(principal, "generate_media", {"model": "sandbox-image", "prompt": "a kite"})
    error = result.structured_content["error"]
    assert error["code"] == "insufficient_credits" and error["kind"] == "payment" and error["retryable"] is False
    assert "costs 1 credits; 0.5 are available" in error["message"] and "top up" in error["action"]
    assert Generation.objects.count() == 0


def test_rate_limit_errors_carry_the_wait():
    error = error_object(ApplicationError("Slow down.", code="rate_limit_exceeded", kind=Kind.RATE_LIMITED,
                                          retry_after=7.2))
    assert error["retry_after_seconds"] == 8 and error["retryable"] is True and error["status"] == 429


def test_tool_calls_take_the_keys_rate_windows(make_user, catalog):
    user = make_user("busy@example.com")
    user_onboard(user=user)
    secret = api_key_create(user=user, workspace=user.current_workspace, name="busy", requests_per_minute=2).secret
    principal = api_key_principal(secret=secret)
    started = [tool_call(principal, "generate_media", {"model": "sandbox-image", "prompt": "a kite"})
               for _ in range(2)]
    assert not any(result.is_error for result in started)
    refused = tool_call(principal, "generate_media", {"model": "sandbox-image", "prompt": "a kite"})
    error = refused.structured_content["error"]
    assert error["code"] == "rate_limit_exceeded" and error["retryable"] is True
    assert 1 <= error["retry_after_seconds"] <= 60 and "Retry after" in refused.content[0].text
    assert Generation.objects.count() == 2
    # Status reads have their own, larger window (the plan's polls per minute).
    status = tool_call(principal, "get_generation_status", {"generation_id": started[0].structured_content[
        "generation_id"]})
    assert not status.is_error


def test_publishable_keys_cannot_use_tools(make_user, catalog):
    user = make_user("browser@example.com")
    user_onboard(user=user)
    secret = api_key_create(user=user, workspace=user.current_workspace, name="web", kind="publishable",
                            allowed_models=["sandbox-image"]).secret
    refused = tool_call(api_key_principal(secret=secret), "get_balance", {})
    assert refused.structured_content["error"]["code"] == "permission_denied"


def test_other_workspaces_generations_are_not_found(principal, make_user):
    outsider = make_user("outsider@example.com")
    user_onboard(user=outsider)
    other = api_key_principal(secret=api_key_create(user=outsider, workspace=outsider.current_workspace,
                                                    name="o").secret)
    started = tool_call(principal, "generate_media", {"model": "sandbox-image", "prompt": "a kite"})
    generation_id = started.structured_content["generation_id"]
    for tool in ("get_generation_status", "cancel_generation"):
        result = tool_call(other, tool, {"generation_id": generation_id})
        assert result.structured_content["error"]["code"] == "not_found"
    canceled = tool_call(principal, "cancel_generation", {"generation_id": generation_id}).structured_content
    assert canceled["status"] == "failed" and canceled["error"]["code"] == "canceled"
    again = tool_call(principal, "cancel_generation", {"generation_id": generation_id})
    assert again.structured_content["error"]["code"] == "generation_finished"


def test_key_restrictions_apply_to_tools(principal):
    narrow = dataclasses.replace(principal, allowed_models=frozenset({"sandbox-video"}),
                                 permissions=frozenset({"generate", "models"}))
    refused = tool_call(narrow, "generate_media", {"model": "sandbox-image", "prompt": "a kite"})
    assert refused.structured_content["error"]["code"] == "api_key_model_not_allowed"
    assert tool_call(narrow, "get_balance", {}).structured_content["error"]["code"] == "permission_denied"
    listed = tool_call(narrow, "get_models", {}).structured_content
    assert [m["id"] for m in listed["models"]] == ["sandbox-video"]
