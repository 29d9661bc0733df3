"""Every rule type of the one validator, with the exact messages users read."""
import pytest

from apps.catalog.data import all_models
from apps.catalog.schema import ValidationFailed, check_schema, validate_params

SCHEMA = {
    "fields": [
        {"name": "prompt", "type": "text", "required": True, "min_length": 3, "max_length": 20},
        {"name": "style", "type": "string", "max_length": 5},
        {"name": "n", "type": "integer", "min": 1, "max": 4, "default": 1, "label": "Images"},
        {"name": "guidance", "type": "number", "min": 0, "max": 10},
        {"name": "loop", "type": "boolean", "default": False},
        {"name": "resolution", "type": "enum", "choices": ["720p", "1080p", "4K"], "default": "720p"},
        {"name": "aspect_ratio", "type": "enum", "choices": ["16:9", "1:1"], "default": "16:9"},
        {"name": "duration", "type": "enum", "choices": [5, 10], "default": 5},
        {"name": "mode", "type": "enum", "choices": ["text", "image"], "default": "text"},
        {"name": "image_url", "type": "url"},
        {"name": "media_urls", "type": "url_list", "max_items": 12},
    ],
    "rules": [
        {"if": {"mode": "image"}, "require": ["image_url"], "message": "Start frame is required for image to video."},
        {"if": {"resolution": "4K", "aspect_ratio": "1:1"}, "forbid": True, "field": "resolution",
         "message": "4K is not available at 1:1."},
    ],
}
CHAT = {
    "fields": [
        {"name": "prompt", "type": "text", "max_length": 1000},
        {"name": "messages", "type": "messages", "max_items": 3, "max_length": 50},
        {"name": "vision_messages", "type": "messages", "vision": True},
    ],
    "rules": [{"one_of": ["prompt", "messages"], "message": "Write a prompt (or send messages)."}],
}


def errors(schema, raw) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        validate_params(schema, raw)
    assert caught.value.code == "invalid_request"
    return caught.value.errors


def test_defaults_and_coercion():
    clean = validate_params(SCHEMA, {"prompt": "  a cat  ", "n": "3", "guidance": "2.5", "loop": "on", "duration": "10"})
    assert clean == {"prompt": "a cat", "n": 3, "guidance": 2.5, "loop": True, "resolution": "720p",
                     "aspect_ratio": "16:9", "duration": 10, "mode": "text"}


@pytest.mark.parametrize("raw, field, message", [
    ({}, "prompt", "Prompt is required."),
    ({"prompt": "   "}, "prompt", "Prompt is required."),
    ({"prompt": "ab"}, "prompt", "Prompt must be at least 3 characters."),
    ({"prompt": "x" * 21}, "prompt", "Prompt must be at most 20 characters (got 21)."),
    ({"prompt": 5}, "prompt", "Prompt must be text."),
    ({"prompt": "cat", "style": "abcdef"}, "style", "Style must be at most 5 characters (got 6)."),
    ({"prompt": "cat", "n": 0}, "n", "Images must be at least 1."),
    ({"prompt": "cat", "n": 5}, "n", "Images must be at most 4."),
    ({"prompt": "cat", "n": 1.5}, "n", "Images must be a whole number."),
    ({"prompt": "cat", "n": True}, "n", "Images must be a whole number."),
    ({"prompt": "cat", "guidance": "lots"}, "guidance", "Guidance must be a number."),
    ({"prompt": "cat", "guidance": 11}, "guidance", "Guidance must be at most 10."),
    ({"prompt": "cat", "loop": "maybe"}, "loop", "Loop must be true or false."),
    ({"prompt": "cat", "resolution": "8K"}, "resolution", "Resolution must be one of: 720p, 1080p, 4K (got '8K')."),
    ({"prompt": "cat", "duration": 7}, "duration", "Duration must be one of: 5, 10 (got 7)."),
    ({"prompt": "cat", "image_url": "ftp://x/y.png"}, "image_url", "Image url must be an http(s) URL or a data: URI."),
    ({"prompt": "cat", "image_url": 3}, "image_url", "Image url must be a URL."),
    ({"prompt": "cat", "media_urls": ["https://e.com/a.png"] * 13}, "media_urls",
     "Media urls accepts at most 12 items (got 13)."),
    ({"prompt": "cat", "media_urls": ["https://e.com/a.png", "nope"]}, "media_urls",
     "Media urls must be an http(s) URL or a data: URI."),
    ({"prompt": "cat", "colour": "red"}, "colour", "Unknown parameter 'colour' for this model."),
    ({"prompt": "cat", "mode": "image"}, "image_url", "Start frame is required for image to video."),
    ({"prompt": "cat", "resolution": "4K", "aspect_ratio": "1:1"}, "resolution", "4K is not available at 1:1."),
])
def test_each_rule_names_the_field_and_the_rule(raw, field, message):
    assert errors(SCHEMA, raw)[field] == [message]


def test_all_field_errors_come_back_together():
    found = errors(SCHEMA, {"n": 9, "resolution": "8K"})
    assert set(found) == {"prompt", "n", "resolution"}


def test_conditional_rules_pass_when_satisfied():
    clean = validate_params(SCHEMA, {"prompt": "cat", "mode": "image", "image_url": "https://e.com/a.png",
                                     "resolution": "4K", "media_urls": "https://e.com/1.png https://e.com/2.png"})
    assert clean["media_urls"] == ["https://e.com/1.png", "https://e.com/2.png"]


def test_params_must_be_an_object():
    assert errors(SCHEMA, ["prompt"]) == {"params": ["Parameters must be an object."]}


def test_one_of_prompt_or_messages():
    assert errors(CHAT, {}) == {"prompt": ["Write a prompt (or send messages)."]}
    both = errors(CHAT, {"prompt": "hi", "messages": [{"role": "user", "content": "hi"}]})
    assert both == {"messages": ["Give only one of: prompt, messages (got prompt, messages)."]}
    assert validate_params(CHAT, {"prompt": "hi"}) == {"prompt": "hi"}
    # An empty chat counts as not given.
    assert errors(CHAT, {"messages": []}) == {"prompt": ["Write a prompt (or send messages)."]}


def test_messages_accepts_openai_chat_and_json_text():
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    assert validate_params(CHAT, {"messages": chat})["messages"] == chat
    assert validate_params(CHAT, {"messages": '[{"role": "user", "content": "Hi"}]'})["messages"] == [
        {"role": "user", "content": "Hi"}]


@pytest.mark.parametrize("messages, message", [
    ({"role": "user"}, "Messages must be a non-empty list of {role, content} objects."),
    ("not json", "Messages must be a list of {role, content} objects (invalid JSON)."),
    ([{"role": "robot", "content": "hi"}], "Messages item 1: role must be one of system, developer, user, assistant (got 'robot')."),
    ([{"role": "user", "content": ""}], "Messages item 1: content must not be empty."),
    ([{"role": "user", "content": 3}], "Messages item 1: content must be text or a non-empty list of content parts."),
    ([{"role": "user", "content": "hi", "tools": []}], "Messages item 1 has unknown keys: tools."),
    (["hi"], "Messages item 1 must be an object with role and content."),
    ([{"role": "user", "content": "hi", "name": ""}], "Messages item 1: name must be text of 1 to 64 characters."),
    ([{"role": "user", "content": "a"}] * 4, "Messages accepts at most 3 items (got 4)."),
    ([{"role": "user", "content": "x" * 51}], "Messages must be at most 50 characters in total (got 51)."),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://e.com/a.png"}}]}],
     "Messages item 1: this model does not accept images."),
    ([{"role": "user", "content": [{"type": "audio"}]}],
     "Messages item 1: content part type must be text or image_url (got 'audio')."),
])
def test_messages_errors(messages, message):
    assert errors(CHAT, {"messages": messages}) == {"messages": [message]}


def test_vision_messages_check_image_urls_and_roles():
    part = {"type": "image_url", "image_url": {"url": "https://e.com/a.png"}}
    ok = validate_params(CHAT, {"prompt": "x", "vision_messages": [{"role": "user", "content": [part]}]})
    assert ok["vision_messages"][0]["content"] == [part]
    bad_url = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}]
    assert errors(CHAT, {"prompt": "x", "vision_messages": bad_url}) == {
        "vision_messages": ["Vision messages item 1: image_url must be an http(s) URL or a data: URI."]}
    assistant = [{"role": "assistant", "content": [part]}]
    assert errors(CHAT, {"prompt": "x", "vision_messages": assistant}) == {
        "vision_messages": ["Vision messages item 1: only user messages may contain images."]}


def test_check_schema_reports_broken_schemas():
    broken = {"fields": [{"name": "a", "type": "enum"}, {"name": "a", "type": "text"},
                         {"name": "n", "type": "integer", "min": 5, "max": 1, "default": 9},
                         {"name": "p", "type": "text", "required": True, "default": "x"}],
              "rules": [{"if": {"ghost": 1}, "require": ["a"]}, {"if": {"a": 1}, "forbid": True}, {"if": {"a": 1}}]}
    problems = check_schema(broken)
    for expected in ["a: enum without choices", "a: duplicate field", "n: min is above max",
                     "n: default invalid: N must be at most 1.", "p: a required field cannot have a default",
                     "rule refers to unknown field 'ghost'", "a forbid rule needs a message"]:
        assert expected in problems
    assert any(p.startswith("a rule does nothing") for p in problems)


def _schema(slug):
    return next(e for e in all_models() if e["slug"] == slug)["schema"]


def test_real_catalog_rules():
    assert errors(_schema("seedance-2"), {"prompt": "a train", "mode": "image-to-video"}) == {
        "image_url": ["Start frame is required for image to video."]}
    assert errors(_schema("seedance-2"), {"prompt": "a train", "mode": "media-to-video",
                                          "media_urls": ["https://e.com/a.png"] * 13}) == {
        "media_urls": ["Reference media accepts at most 12 items (got 13)."]}
    assert errors(_schema("seedance-2"), {"prompt": "a train", "end_image_url": "https://e.com/z.png"}) == {
        "image_url": ["An end frame needs a start frame: set image_url too."]}
    assert errors(_schema("hailuo-02"), {"prompt": "waves", "resolution": "1080P", "duration": 10}) == {
        "duration": ["1080P is available for 6-second clips only."]}
    assert errors(_schema("gpt-image-1"), {"prompt": "logo", "background": "transparent",
                                           "output_format": "jpeg"}) == {
        "background": ["A transparent background needs png or webp output, not jpeg."]}
    assert errors(_schema("gpt-4o"), {"messages": [{"role": "user", "content": "hi"}], "system": "be brief"}) == {
        "system": ["With messages, put the system prompt in the messages as a system message."]}
    assert errors(_schema("kling-2.1"), {"prompt": "smile"}) == {"image_url": ["Start frame is required."]}
