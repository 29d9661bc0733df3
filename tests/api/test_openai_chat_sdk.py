"""The official openai SDK against a live Atelier server process (granian), chat and responses.

max_retries=0 everywhere: a retry must never hide an error. Sandbox chat runs in the web process
itself (no worker needed); the OpenAI channel tests go through the fake upstream over HTTP."""
from __future__ import annotations

import json

import httpx
import openai
import pytest

from apps.accounts.services import user_onboard
from apps.api.services import api_key_create
from apps.catalog.models import Channel
from apps.generations.models import Generation
from apps.wallet.audit import wallet_audit
from apps.wallet.models import LedgerEntry, Wallet
from tests.fakes.core import state as fake_state
from tests.support.web import WebProcess, web_env_for_tests
from tests.support.worker import wait_until


@pytest.fixture
def chat_user(transactional_db, make_user, catalog):
    user = make_user("chatter@example.com")
    user_onboard(user=user)
    return user


@pytest.fixture
def key(chat_user):
    return api_key_create(user=chat_user, workspace=chat_user.current_workspace, name="sdk").secret


@pytest.fixture
def web(transactional_db, catalog, fake_upstream):
    server = WebProcess(extra_env=web_env_for_tests())
    yield server
    server.stop()


@pytest.fixture
def sdk(web, key):
    return openai.OpenAI(api_key=key, base_url=f"{web.url}/v1", max_retries=0, timeout=30)


@pytest.fixture
def openai_channel(fake_upstream):
    channel = Channel(name="OpenAI", adapter="openai", base_url=f"{fake_upstream.url}/v1", priority=10)
    channel.api_key = "sk-fake-test"
    channel.save()
    return channel


def _wallet(user) -> Wallet:
    return Wallet.objects.get(workspace=user.current_workspace)


def _settled():
    """The charge is written once the answer has been sent (ChatTurn.settle): wait for it."""
    wait_until(lambda: not Generation.objects.filter(status="running").exists(), timeout=20,
               message="the turns to settle")


def test_chat_completion_charges_the_reported_usage(sdk, chat_user):
    completion = sdk.chat.completions.create(
        model="sandbox-text", messages=[{"role": "user", "content": "How do lighthouses work?"}], max_tokens=200)
    assert completion.object == "chat.completion" and completion.id.startswith("chatcmpl-")
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and "lighthouses" in choice.message.content
    assert choice.finish_reason == "stop"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens > 0
    _settled()
    generation = Generation.objects.get()
    assert generation.status == "succeeded" and generation.source == "api"
    assert generation.usage["output_tokens"] == completion.usage.completion_tokens
    assert 0 < generation.charged < generation.price  # held for 200 tokens, charged for what was used
    wallet = _wallet(chat_user)
    assert (wallet.balance, wallet.held) == (100_000 - generation.charged, 0)
    assert completion.model_extra["routing"] == {"upstream": "Sandbox", "adapter": "sandbox", "failover": False,
                                                 "attempts": 1}
    assert wallet_audit() == []


def test_streaming_with_include_usage_is_what_the_sdk_expects(sdk, chat_user):
    stream = sdk.chat.completions.create(
        model="sandbox-text", messages=[{"role": "user", "content": "Explain tides to a child."}], stream=True,
        stream_options={"include_usage": True}, max_tokens=300)
    chunks = list(stream)
    assert len({c.id for c in chunks}) == 1 and len({c.created for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in with_choices[:-1])
    text = "".join(c.choices[0].delta.content or "" for c in with_choices)
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == [] and usage_chunk.usage.completion_tokens > 0
    _settled()
    generation = Generation.objects.get()
    assert generation.result_text == text and generation.usage["output_tokens"] == usage_chunk.usage.completion_tokens
    assert generation.status == "succeeded" and _wallet(chat_user).held == 0
    assert wallet_audit() == []


def test_without_include_usage_no_usage_chunk(sdk):
    chunks = list(sdk.chat.completions.create(
        model="sandbox-text", messages=[{"role": "user", "content": "hello there"}], stream=True))
    assert chunks[-1].choices and chunks[-1].choices[0].finish_reason in ("stop", "length")
    assert all(c.usage is None for c in chunks)


def test_vision_content_reaches_the_openai_upstream(sdk, openai_channel, fake_upstream, chat_user):
    completion = sdk.chat.completions.create(model="gpt-4o", max_tokens=50, messages=[{"role": "user", "content": [
        {"type": "text", "text": "Describe this image"},
        {"type": "image_url", "image_url": {"url": "https://example.com/image.jpg"}}]}])
    assert completion.choices[0].message.content == "Echo: Describe this image"
    sent = fake_upstream.requests("openai.chat")[-1]["json"]
    assert sent["model"] == "gpt-4o" and sent["messages"][0]["content"][1]["image_url"]["url"].endswith("image.jpg")
    assert sent["max_completion_tokens"] == 50
    assert completion.model_extra["routing"]["upstream"] == "OpenAI"
    _settled()
    assert Generation.objects.get().charged > 0 and wallet_audit() == []


def test_no_max_tokens_holds_the_models_largest_answer_and_sends_none(sdk, openai_channel, fake_upstream,
                                                                       chat_user):
    sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    sent = fake_upstream.requests("openai.chat")[-1]["json"]
    assert "max_completion_tokens" not in sent and "max_tokens" not in sent
    hold = LedgerEntry.objects.get(kind="hold")
    # gpt-4o-mini: 16,384 output tokens at 0.06 credits per 1,000 = 0.983 credits, plus the prompt.
    assert hold.held_delta >= 983


def test_tools_round_trip_on_the_sandbox(sdk):
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                               "parameters": {"type": "object", "properties": {
                                                   "city": {"type": "string"}}, "required": ["city"]}}}]
    messages = [{"role": "user", "content": "What is the weather in Lisbon?"}]
    first = sdk.chat.completions.create(model="sandbox-text", messages=messages, tools=tools)
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "lisbon"}
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "18 C and sunny"}]
    second = sdk.chat.completions.create(model="sandbox-text", messages=messages, tools=tools)
    assert "18 C and sunny" in second.choices[0].message.content
    streamed = list(sdk.chat.completions.create(model="sandbox-text", messages=messages[:1], tools=tools,
                                                   tool_choice="required", stream=True))
    arguments = "".join(c.choices[0].delta.tool_calls[0].function.arguments or ""
                        for c in streamed if c.choices and c.choices[0].delta.tool_calls)
    assert json.loads(arguments) == {"city": "lisbon"}


def test_chat_with_a_media_model_names_the_model(sdk):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="sandbox-image", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "invalid_request" and caught.value.param == "model"


def test_responses_plain_and_streamed(sdk, chat_user):
    response = sdk.responses.create(model="sandbox-text", input="Tell me about volcanoes.",
                                       instructions="Be brief.", max_output_tokens=120)
    assert response.status == "completed" and "volcanoes" in response.output_text
    assert response.usage.output_tokens > 0 and response.id.startswith("resp_")
    events = list(sdk.responses.create(model="sandbox-text", input=[
        {"role": "user", "content": [{"type": "input_text", "text": "Tell me about glaciers."}]}], stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds and "response.output_text.done" in kinds
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    completed = events[-1].response
    assert completed.output_text == deltas and completed.usage.output_tokens > 0
    assert [e.sequence_number for e in events] == list(range(len(events)))
    _settled()
    assert Generation.objects.filter(status="succeeded").count() == 2 and wallet_audit() == []


def test_sdk_exceptions_for_bad_key_unknown_model_and_no_credits(web, sdk, chat_user):
    bad = openai.OpenAI(api_key="atl_not-a-key", base_url=f"{web.url}/v1", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        bad.chat.completions.create(model="sandbox-text", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "invalid_api_key"
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "invalid_model" and caught.value.param == "model"
    with pytest.raises(openai.APIStatusError) as caught:
        # GPT-5's largest answer (128,000 tokens) costs more than the 100 credits of a new account.
        sdk.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 402 and caught.value.code == "insufficient_credits"
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="sandbox-text", messages=[{"role": "robot", "content": "hi"}])
    assert caught.value.code == "invalid_request" and caught.value.param == "messages"
    assert Generation.objects.count() == 0 and _wallet(chat_user).held == 0


@pytest.mark.pg
def test_a_client_that_drops_a_stream_closes_the_upstream_and_pays_what_came(web, key, openai_channel,
                                                                             fake_upstream, chat_user):
    fake_upstream.config(stream_chunk_seconds=0.05)
    words = " ".join(f"word{i}" for i in range(200))
    body = {"model": "gpt-4o-mini", "stream": True, "max_tokens": 1000,
            "messages": [{"role": "user", "content": words}]}
    received = 0
    with httpx.Client(timeout=30) as http, http.stream("POST", f"{web.url}/v1/chat/completions", json=body,
                                                       headers={"Authorization": f"Bearer {key}"}) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: {"):
                received += 1
            if received >= 10:
                break  # leaving the block closes the connection mid-answer
    generation = wait_until(lambda: Generation.objects.filter(status="succeeded").first(), timeout=30,
                            message=f"the dropped turn to settle\n{web.log()}")
    assert generation.usage["finish_reason"] == "client_disconnected" and generation.usage["counted"] is True
    assert 0 < generation.usage["output_tokens"] < 200
    assert 0 < generation.charged < generation.price
    wait_until(lambda: fake_state.streams_abandoned >= 1, timeout=20, message="the upstream stream to be closed")
    assert LedgerEntry.objects.filter(kind="capture", generation=generation).count() == 1
    assert LedgerEntry.objects.filter(kind="release").count() == 0
    assert _wallet(chat_user).held == 0 and wallet_audit() == []


@pytest.mark.pg
def test_streaming_fails_over_when_the_primary_refuses_before_the_first_byte(sdk, openai_channel, fake_upstream,
                                                                              chat_user):
    backup = Channel(name="Backup", adapter="openai_compat", base_url=f"{fake_upstream.url}/open/v1", priority=5)
    backup.save()
    fake_upstream.faults("openai.chat", status=503, count=1)
    chunks = list(sdk.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "failover please"}], stream=True,
        stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: failover please"
    assert chunks[-1].model_extra["routing"] == {"upstream": "Backup", "adapter": "openai_compat",
                                                 "failover": True, "attempts": 2}
    _settled()
    generation = Generation.objects.get()
    assert [(a.channel_name, a.outcome) for a in generation.attempts.all()] == [("OpenAI", "transient"),
                                                                               ("Backup", "ok")]
    assert generation.status == "succeeded" and wallet_audit() == []


def test_every_channel_down_fails_and_releases(sdk, openai_channel, fake_upstream, chat_user):
    fake_upstream.faults("openai.chat", status=500)
    with pytest.raises(openai.APIStatusError) as caught:
        sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                       stream=True)
    assert caught.value.status_code == 502 and caught.value.code == "upstream_error"
    generation = Generation.objects.get()
    assert generation.status == "failed" and generation.charged is None
    assert _wallet(chat_user).held == 0 and wallet_audit() == []
