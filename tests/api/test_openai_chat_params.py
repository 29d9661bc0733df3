"""How OpenAI chat parameters map onto a catalog model (no server needed)."""
import pytest

from apps.api.errors import ApiError
from apps.api.openai_chat import chat_params
from apps.catalog.models import AIModel


def _model(*names):
    return AIModel(slug="plain-chat", modality="text", schema={"fields": [{"name": n, "type": "string"} for n in names]})


def test_neutral_sampling_values_are_dropped_others_refused():
    model = _model("messages")
    assert chat_params(model, {"messages": [], "temperature": 1, "top_p": 1, "presence_penalty": 0}) == {
        "messages": []}
    with pytest.raises(ApiError) as caught:
        chat_params(model, {"messages": [], "temperature": 0.2})
    assert caught.value.param == "temperature" and "does not take temperature" in caught.value.message


@pytest.mark.parametrize("name", ["tools", "tool_choice", "parallel_tool_calls"])
def test_a_model_without_tools_says_it_cannot_call_them(name):
    with pytest.raises(ApiError) as caught:
        chat_params(_model("messages"), {"messages": [], name: [{"type": "function"}]})
    assert caught.value.param == name and "cannot call tools" in caught.value.message
