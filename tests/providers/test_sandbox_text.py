"""The sandbox chat engine: deterministic answers, streamed token by token, counted honestly."""
import pytest

from apps.providers.adapters.sandbox import SandboxAdapter
from apps.providers.base import ChannelConfig, InvalidInput, Job
from apps.providers.sandbox.text import count_tokens, tokenize

ADAPTER = SandboxAdapter(ChannelConfig(name="sandbox", adapter="sandbox"))


def job(**params) -> Job:
    return Job(id="t", modality="text", upstream_model="text", params=params, channel=ADAPTER.channel)


def test_stream_concatenates_to_the_full_answer_and_reports_usage():
    params = {"prompt": "How do I keep sourdough starter alive over a long holiday?"}
    result = ADAPTER.submit(job(**params))
    chunks = list(ADAPTER.stream_chat(job(**params)))
    assert result.status == "succeeded" and "sourdough" in result.text
    assert "".join(chunk.delta for chunk in chunks) == result.text
    assert all(chunk.finish_reason is None for chunk in chunks[:-1]) and len(chunks) > 10
    final = chunks[-1]
    assert final.delta == "" and final.finish_reason == "stop"
    assert final.usage == result.usage == {"input_tokens": count_tokens(params["prompt"]),
                                           "output_tokens": len(chunks) - 1}


def test_max_tokens_truncates_with_finish_reason_length():
    full = ADAPTER.submit(job(prompt="Explain photosynthesis to a child")).text
    chunks = list(ADAPTER.stream_chat(job(prompt="Explain photosynthesis to a child", max_tokens=7)))
    text = "".join(chunk.delta for chunk in chunks)
    assert chunks[-1].finish_reason == "length" and chunks[-1].usage["output_tokens"] == 7
    assert full.startswith(text) and count_tokens(text) == 7
    assert ADAPTER.submit(job(prompt="Explain photosynthesis to a child", max_tokens=7)).text == text


def test_same_conversation_same_answer_other_conversations_differ():
    one = ADAPTER.submit(job(prompt="Tell me about volcanoes")).text
    assert ADAPTER.submit(job(prompt="Tell me about volcanoes")).text == one
    assert ADAPTER.submit(job(prompt="Tell me about glaciers")).text != one
    assert ADAPTER.submit(job(prompt="Tell me about volcanoes", seed=5)).text != one


def test_messages_are_accepted_and_all_count_as_input():
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "I am planning a garden."},
        {"role": "assistant", "content": "Nice."},
        {"role": "user", "content": [{"type": "text", "text": "Which tomatoes grow well in shade?"}]},
    ]
    result = ADAPTER.submit(job(messages=messages))
    assert "tomatoes" in result.text and "earlier about planning" in result.text  # the earlier turn was read
    assert result.usage["input_tokens"] == sum(
        count_tokens(text) for text in ["You are terse.", "I am planning a garden.", "Nice.",
                                        "Which tomatoes grow well in shade?"])


def test_prompt_with_system_counts_the_system_prompt():
    with_system = ADAPTER.submit(job(prompt="Name a colour", system="Answer in French")).usage["input_tokens"]
    assert with_system == count_tokens("Name a colour") + count_tokens("Answer in French")


def test_stop_sequence_ends_the_answer_before_it():
    full = ADAPTER.submit(job(prompt="What makes bread rise?")).text
    cut = ADAPTER.submit(job(prompt="What makes bread rise?", stop=["."])).text
    assert cut == full[: full.index(".")] and "." not in cut


def test_tokens_concatenate_back_to_the_text():
    text = "Hello, world! It's 3.14 — isn't it? Ünïcode wörds too."
    assert "".join(tokenize(text)) == text
    # Hello , world ! It's 3 . 14 — isn't it ? Ünïcode wörds too .
    assert count_tokens(text) == 16


def test_greeting_and_empty_requests():
    assert ADAPTER.submit(job(prompt="hi")).text.startswith("Hello!")
    with pytest.raises(InvalidInput):
        ADAPTER.submit(job(prompt="   "))
    with pytest.raises(InvalidInput):
        list(ADAPTER.stream_chat(Job(id="t", modality="image", upstream_model="image", params={"prompt": "x"},
                                     channel=ADAPTER.channel)))
