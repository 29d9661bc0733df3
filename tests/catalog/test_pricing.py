"""Pricing units: exact integer millicredits, rounded up once, hold = maximum for text."""
from apps.catalog.pricing import estimate_tokens, price_summary, pricing_table, quote, starting_price, token_cost


def test_per_image_times_count_and_multipliers():
    rule = {"unit": "image", "credits": "4", "count": "n",
            "multipliers": {"quality": {"low": "0.25", "high": "4"}, "size": {"1536x1024": "1.5"}}}
    assert quote(rule, {"n": 1, "quality": "medium", "size": "1024x1024"}) == 4000
    assert quote(rule, {"n": 3, "quality": "high", "size": "1536x1024"}) == 72000  # 4 x 4 x 1.5 x 3
    assert quote(rule, {"n": 2, "quality": "low"}) == 2000


def test_per_second_with_resolution_and_audio_addon():
    rule = {"unit": "second", "credits": "20", "duration": "duration", "multipliers": {"resolution": {"1080p": "2"}},
            "addons": {"generate_audio": {"true": "20"}}}
    assert quote(rule, {"duration": 8, "generate_audio": False}) == 160_000
    assert quote(rule, {"duration": 8, "generate_audio": True}) == 320_000
    assert quote(rule, {"duration": 4, "resolution": "1080p", "generate_audio": True}) == 240_000  # (40+20) x 4


def test_per_song_and_per_request():
    assert quote({"unit": "song", "credits": "3.5"}, {}) == 3500
    assert quote({"unit": "request", "credits": "8", "multipliers": {"resolution": {"480p": "0.5"}}},
                 {"resolution": "480p"}) == 4000


def test_per_thousand_characters_rounds_up_once():
    rule = {"unit": "1k_chars", "credits": "1.5", "text": "input"}
    assert quote(rule, {"input": "x" * 1000}) == 1500
    assert quote(rule, {"input": "x" * 2500}) == 3750
    assert quote(rule, {"input": "hi"}) == 3  # 0.003 credits exactly
    assert quote(rule, {"input": "x"}) == 2  # 1.5 millicredits rounds up to 2


def test_tokens_hold_the_maximum_and_capture_the_actual():
    rule = {"unit": "1k_tokens", "input": "0.25", "output": "1", "max_output": "max_tokens"}
    prompt = "x" * 300
    held = quote(rule, {"prompt": prompt, "max_tokens": 1000})
    prompt_tokens = estimate_tokens(prompt + " " * 12)
    assert held == token_cost(rule, prompt_tokens, 1000)
    assert held == 1000 + prompt_tokens * 250 // 1000 + (1 if prompt_tokens * 250 % 1000 else 0)
    # A real answer costs no more than the hold.
    assert token_cost(rule, 80, 200) == 220 <= held
    assert token_cost(rule, 1, 1) == 2  # 0.25 + 1 millicredits, rounded up once


def test_vision_images_count_as_input_tokens():
    rule = {"unit": "1k_tokens", "input": "1", "output": "1", "image_tokens": 1000}
    text_only = quote(rule, {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
                             "max_tokens": 10})
    with_image = quote(rule, {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "https://e.com/a.png"}}]}],
        "max_tokens": 10})
    assert with_image - text_only == 1000


def test_starting_price_and_summary():
    schema = {"fields": [{"name": "n", "type": "integer", "default": 2}]}
    rule = {"unit": "image", "credits": "0.3", "count": "n"}
    assert starting_price(rule, schema) == 600
    assert price_summary(rule, schema) == {"from": 600, "unit": "per image", "rates": {"image": 300}}
    tokens = {"unit": "1k_tokens", "input": "0.015", "output": "0.06"}
    assert price_summary(tokens, {}) == {"from": None, "unit": "per 1,000 tokens",
                                         "rates": {"input": 15, "output": 60}}


def test_pricing_table_rows():
    rule = {"unit": "second", "credits": "20", "duration": "duration", "addons": {"generate_audio": {"true": "20"}}}
    assert pricing_table(rule) == [("Base, per second", "20"), ("generate_audio = true", "+ 20 per second"),
                                   ("Length", "x duration (seconds)")]
