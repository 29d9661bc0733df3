"""What a job was asked, as history, usage and search show it."""
from apps.generations.models import Generation


def test_a_chat_turn_is_shown_by_its_last_question():
    turn = Generation(params={"messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "First?"},
        {"role": "assistant", "content": "Yes."},
        {"role": "user", "content": [{"type": "text", "text": "And this"}, {"type": "image_url", "image_url": {"url": "x"}}]},
    ]})
    assert turn.prompt == "And this"
    assert Generation(params={"prompt": "a fox"}).prompt == "a fox" and Generation(params={}).prompt == ""
