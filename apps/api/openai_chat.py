"""OpenAI-compatible text: POST /chat/completions and POST /responses (streaming or not).

Both translate their request into the catalog's chat parameters, so one validator, one price
and one money path (apps.generations.chat) serve them, and answer in OpenAI's shapes exactly
as the official SDKs parse them. Choices where OpenAI's surface is wider than Atelier's:
- n > 1, logprobs, audio output, predicted outputs and web search are refused with a 400 that
  names the parameter (no silent degradation);
- sampling parameters a model does not take are refused, except at OpenAI's neutral values
  (temperature 1, top_p 1, penalties 0), which are dropped: clients that always send them work;
- bookkeeping parameters (metadata, store, service_tier, prompt_cache_key, safety_identifier,
  verbosity) are accepted and not forwarded."""
from __future__ import annotations

import json
import time
from typing import Any, Iterator

from django.http import JsonResponse, StreamingHttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from apps.generations.chat import ChatResult, ChatStream, StreamInterrupted, chat_complete, chat_open, chat_stream_start

from .catalog import resolve_model
from .errors import error_body, invalid
from .presenters import credits

router = Router(tags=["OpenAI-compatible"])

NEUTRAL = {"temperature": 1, "top_p": 1, "presence_penalty": 0, "frequency_penalty": 0}
MAX_MESSAGES = 200  # reference 004's per-request limits
MAX_CHAT_CHARACTERS = 64_000
IGNORED = ("metadata", "store", "service_tier", "prompt_cache_key", "safety_identifier", "verbosity")


class StreamOptions(Schema):
    include_usage: bool = False
    include_obfuscation: bool | None = None


class ChatCompletionBody(Schema):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200)
    messages: list[dict[str, Any]] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = None
    top_p: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    reasoning_effort: str | None = None
    user: str | None = Field(None, max_length=256)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(None, ge=1)
    logprobs: bool | None = None
    top_logprobs: int | None = None
    logit_bias: dict[str, float] | None = None
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: str | dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None
    verbosity: str | None = None


def _refuse_unsupported(body) -> None:
    given = body.model_fields_set
    if body.n not in (None, 1):
        raise invalid("Only n=1 is supported: send one request per answer.", param="n")
    if body.logprobs or body.top_logprobs:
        raise invalid("logprobs are not available through Atelier.", param="logprobs")
    if body.modalities and set(body.modalities) != {"text"}:
        raise invalid("Only text output is available on chat; use /v1/audio/speech for audio.", param="modalities")
    for name in ("audio", "prediction", "web_search_options", "functions", "function_call"):
        if name in given and getattr(body, name) is not None:
            hint = " Use tools and tool_choice." if name.startswith("function") else ""
            raise invalid(f"{name} is not supported.{hint}", param=name)
    if body.logit_bias:
        raise invalid("logit_bias is not supported.", param="logit_bias")


def check_chat_size(messages: list) -> None:
    if len(messages) > MAX_MESSAGES:
        raise invalid(f"At most {MAX_MESSAGES} messages per request (got {len(messages)}).", param="messages")
    total = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):
            total += sum(len(str(part.get("text", ""))) for part in content if isinstance(part, dict))
    if total > MAX_CHAT_CHARACTERS:
        raise invalid(f"At most {MAX_CHAT_CHARACTERS:,} characters of messages per request (got {total:,}).",
                      param="messages")


def chat_params(model, values: dict) -> dict:
    """OpenAI request values -> the catalog model's params (names already match the catalog's)."""
    check_chat_size(values.get("messages") or [])
    fields = {spec["name"] for spec in model.schema.get("fields", [])}
    params = {}
    for name, value in values.items():
        if value is None:
            continue
        if name not in fields:
            if NEUTRAL.get(name) == value:
                continue
            if name == "tools" or name == "tool_choice" or name == "parallel_tool_calls":
                raise invalid(f"The model {model.slug} cannot call tools.", param=name)
            raise invalid(f"The model {model.slug} does not take {name}.", param=name)
        params[name] = value
    return params


# Fields of an answer's message that clients send back when they append it to the chat as is.
ANSWER_ONLY_KEYS = ("refusal", "annotations", "audio")


def _messages(messages: list[dict]) -> list[dict]:
    return [{k: v for k, v in m.items() if k not in ANSWER_ONLY_KEYS or (k == "audio" and v)}
            if isinstance(m, dict) and m.get("role") == "assistant" else m for m in messages]


def _completion_params(model, body: ChatCompletionBody) -> dict:
    _refuse_unsupported(body)
    stop = body.stop
    if isinstance(stop, list):
        if len(stop) > 4:
            raise invalid("stop takes at most 4 sequences.", param="stop")
        stop = stop[0] if len(stop) == 1 else stop
    return chat_params(model, {
        "messages": _messages(body.messages),
        "max_tokens": body.max_completion_tokens or body.max_tokens,
        "temperature": body.temperature, "top_p": body.top_p, "presence_penalty": body.presence_penalty,
        "frequency_penalty": body.frequency_penalty, "stop": stop or None, "seed": body.seed,
        "response_format": body.response_format, "tools": body.tools, "tool_choice": body.tool_choice,
        "parallel_tool_calls": body.parallel_tool_calls, "reasoning_effort": body.reasoning_effort,
        "user": body.user,
    })


def chat_model(request, model_id: str):
    model = resolve_model(model_id, request)
    if model.modality != "text":
        raise invalid(f"{model.slug} is a {model.modality} model, not a chat model.", param="model")
    return model


def open_turn(request, model, params: dict):
    principal = request.auth
    return chat_open(user=principal.user, workspace=principal.workspace, wallet=principal.wallet, model=model,
                     raw_params=params, api_key_id=principal.key_id, budget_id=principal.budget_id)


class SettlingResponse(JsonResponse):
    """A chat answer whose charge is written once the answer has been sent: the WSGI server
    calls close() after the last byte, so the capture's transaction adds nothing to the
    latency the client sees (ChatTurn.settle)."""

    def __init__(self, turn, data: dict, **kwargs):
        super().__init__(data, **kwargs)
        self._turn = turn

    def close(self):
        try:
            self._turn.settle()
        finally:
            super().close()


def usage_json(usage: dict) -> dict:
    prompt, completion = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}


def routing_json(result: ChatResult) -> dict:
    return {"upstream": result.channel, "adapter": result.adapter, "failover": result.failover,
            "attempts": result.attempts}


def sse(payload) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return f"data: {data}\n\n".encode()


def event_stream(chunks: Iterator[bytes]) -> StreamingHttpResponse:
    """SSE without buffering. Closing the response (the client went away) closes the generator,
    whose `finally` stops the upstream stream and settles the turn."""
    response = StreamingHttpResponse(chunks, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx in front must not hold the tokens back
    return response


def stream_error(error: StreamInterrupted) -> bytes:
    _, body, _ = error_body(error)
    return sse(body)


# ---- chat completions ------------------------------------------------------------------------------
@router.post("/chat/completions", summary="Create a chat completion (OpenAI)")
def chat_completions(request, body: ChatCompletionBody):
    model = chat_model(request, body.model)
    turn = open_turn(request, model, _completion_params(model, body))
    completion_id = f"chatcmpl-{turn.generation.pk.hex}"
    created = int(time.time())
    if not body.stream:
        result = chat_complete(turn=turn, settle=False)
        message = {"role": "assistant", "content": result.text if result.text or not result.tool_calls else None,
                   "refusal": None, "annotations": []}
        if result.tool_calls:
            message["tool_calls"] = result.tool_calls
        return SettlingResponse(turn, {
            "id": completion_id, "object": "chat.completion", "created": created, "model": model.slug,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": result.finish_reason}],
            "usage": usage_json(result.usage), "service_tier": "default", "system_fingerprint": None,
            "generation_id": str(turn.generation.pk), "credits": credits(result.charged),
            "routing": routing_json(result),
        })
    stream = chat_stream_start(turn=turn)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return event_stream(_completion_chunks(stream, completion_id, created, model.slug, include_usage))


def _completion_chunks(stream: ChatStream, completion_id: str, created: int, model: str,
                       include_usage: bool) -> Iterator[bytes]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> bytes:
        return sse({"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                    "system_fingerprint": None,
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra})

    try:
        yield chunk({"role": "assistant", "content": "", "refusal": None})
        finish = None
        for piece in stream:
            delta = {}
            if piece.delta:
                delta["content"] = piece.delta
            if piece.tool_calls:
                delta["tool_calls"] = [{"index": int(call.get("index", 0)), **{k: v for k, v in call.items()
                                                                               if k != "index"}}
                                       for call in piece.tool_calls]
            if delta:
                yield chunk(delta)
            finish = piece.finish_reason or finish
        result = stream.result
        yield chunk({}, result.finish_reason if result else (finish or "stop"))
        if include_usage and result is not None:
            yield sse({"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                       "system_fingerprint": None, "choices": [], "usage": usage_json(result.usage),
                       "credits": credits(result.charged), "routing": routing_json(result)})
        yield sse("[DONE]")
    except StreamInterrupted as error:
        yield stream_error(error)
    finally:
        stream.close()


# ---- responses ------------------------------------------------------------------------------------
class TextFormat(Schema):
    format: dict[str, Any] | None = None
    verbosity: str | None = None


class Reasoning(Schema):
    effort: str | None = None
    summary: str | None = None


class ResponsesBody(Schema):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200)
    input: str | list[dict[str, Any]]
    instructions: str | None = None
    max_output_tokens: int | None = Field(None, ge=1)
    temperature: float | None = None
    top_p: float | None = None
    stream: bool = False
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    text: TextFormat | None = None
    reasoning: Reasoning | None = None
    user: str | None = Field(None, max_length=256)
    previous_response_id: str | None = None
    background: bool | None = None
    include: list[str] | None = None
    truncation: str | None = None
    stream_options: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None


PART_TYPES = {"input_text": "text", "output_text": "text", "text": "text"}


def _content(content, where: str):
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise invalid(f"{where}.content must be text or a list of content parts.", param=f"{where}.content")
    parts = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in PART_TYPES:
            parts.append({"type": "text", "text": part.get("text", "")})
        elif kind == "input_image":
            url = part.get("image_url") or ""
            if not url:
                raise invalid("input_image needs an image_url (file ids are not supported).",
                              param=f"{where}.content[{index}]")
            parts.append({"type": "image_url", "image_url": {"url": url}})
        else:
            raise invalid(f"Content part type {kind!r} is not supported.", param=f"{where}.content[{index}]")
    return parts


def responses_messages(body: ResponsesBody) -> list[dict]:
    """Responses `input` (text or items) and `instructions` as chat messages."""
    messages: list[dict] = [{"role": "system", "content": body.instructions}] if body.instructions else []
    if isinstance(body.input, str):
        return messages + [{"role": "user", "content": body.input}]
    for index, item in enumerate(body.input):
        where = f"input[{index}]"
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "assistant", "system", "developer"):
                raise invalid(f"{where}.role must be user, assistant, system or developer.", param=f"{where}.role")
            messages.append({"role": role, "content": _content(item.get("content"), where)})
        elif kind == "function_call":
            call = {"id": item.get("call_id") or item.get("id"), "type": "function",
                    "function": {"name": item.get("name"), "arguments": item.get("arguments", "")}}
            if messages and messages[-1]["role"] == "assistant" and messages[-1].get("tool_calls"):
                messages[-1]["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"),
                             "content": output if isinstance(output, str) else json.dumps(output)})
        else:
            raise invalid(f"Input item type {kind!r} is not supported.", param=f"{where}.type")
    return messages


def _chat_tools(tools: list[dict] | None) -> list[dict] | None:
    """Responses' flat function tools -> chat's nested ones; other tool types are refused."""
    if tools is None:
        return None
    converted = []
    for index, tool in enumerate(tools):
        if tool.get("type") != "function":
            raise invalid(f"Tool type {tool.get('type')!r} is not supported; use function tools.",
                          param=f"tools[{index}].type")
        converted.append({"type": "function", "function": {
            name: tool[name] for name in ("name", "description", "parameters", "strict") if name in tool}})
    return converted


def _chat_tool_choice(choice):
    if isinstance(choice, dict) and choice.get("type") == "function" and "name" in choice:
        return {"type": "function", "function": {"name": choice["name"]}}
    return choice


def _response_format(text: TextFormat | None):
    fmt = text.format if text else None
    if not fmt or fmt.get("type") == "text":
        return None
    if fmt.get("type") == "json_schema":  # Responses flattens what chat nests under json_schema
        inner = {name: fmt[name] for name in ("name", "schema", "strict", "description") if name in fmt}
        return {"type": "json_schema", "json_schema": inner}
    return fmt


def _responses_params(model, body: ResponsesBody) -> dict:
    if body.previous_response_id:
        raise invalid("previous_response_id is not supported: send the whole conversation as input.",
                      param="previous_response_id")
    if body.background:
        raise invalid("background responses are not supported.", param="background")
    return chat_params(model, {
        "messages": responses_messages(body), "max_tokens": body.max_output_tokens,
        "temperature": body.temperature, "top_p": body.top_p, "tools": _chat_tools(body.tools),
        "tool_choice": _chat_tool_choice(body.tool_choice), "parallel_tool_calls": body.parallel_tool_calls,
        "response_format": _response_format(body.text),
        "reasoning_effort": body.reasoning.effort if body.reasoning else None, "user": body.user,
    })


def _response_usage(usage: dict) -> dict:
    prompt, completion = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    return {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": prompt + completion}


def _output_items(response_id: str, text: str, tool_calls: list | None, status: str = "completed") -> list[dict]:
    items = []
    for call in tool_calls or []:
        items.append({"type": "function_call", "id": f"fc_{call['id']}", "call_id": call["id"],
                      "name": call["function"]["name"], "arguments": call["function"]["arguments"],
                      "status": "completed"})
    if text or not items:
        items.insert(0, {"type": "message", "id": f"msg_{response_id}", "status": status, "role": "assistant",
                         "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]})
    return items


def _response_object(response_id: str, created: int, model: str, body: ResponsesBody, *, status: str,
                     output: list, usage: dict | None = None, result: ChatResult | None = None) -> dict:
    incomplete = {"reason": "max_output_tokens"} if result and result.finish_reason == "length" else None
    payload = {
        "id": f"resp_{response_id}", "object": "response", "created_at": created, "status": status,
        "model": model, "output": output, "error": None, "incomplete_details": incomplete,
        "instructions": body.instructions, "max_output_tokens": body.max_output_tokens,
        "parallel_tool_calls": body.parallel_tool_calls if body.parallel_tool_calls is not None else True,
        "temperature": body.temperature, "top_p": body.top_p, "tool_choice": body.tool_choice or "auto",
        "tools": body.tools or [], "text": {"format": (body.text.format if body.text and body.text.format
                                                       else {"type": "text"})},
        "metadata": body.metadata or {}, "store": False, "usage": _response_usage(usage) if usage else None,
    }
    if result is not None:
        payload["credits"] = credits(result.charged)
        payload["routing"] = routing_json(result)
    return payload


@router.post("/responses", summary="Create a model response (OpenAI Responses API)")
def responses(request, body: ResponsesBody):
    model = chat_model(request, body.model)
    turn = open_turn(request, model, _responses_params(model, body))
    response_id = turn.generation.pk.hex
    created = int(time.time())
    if not body.stream:
        result = chat_complete(turn=turn, settle=False)
        status = "incomplete" if result.finish_reason == "length" else "completed"
        return SettlingResponse(turn, _response_object(response_id, created, model.slug, body, status=status,
                                             output=_output_items(response_id, result.text, result.tool_calls),
                                             usage=result.usage, result=result))
    stream = chat_stream_start(turn=turn)
    return event_stream(_response_events(stream, response_id, created, model.slug, body))


def _response_events(stream: ChatStream, response_id: str, created: int, model: str,
                     body: ResponsesBody) -> Iterator[bytes]:
    sequence = 0

    def event(kind: str, **fields) -> bytes:
        nonlocal sequence
        payload = {"type": kind, "sequence_number": sequence, **fields}
        sequence += 1
        return f"event: {kind}\ndata: {json.dumps(payload, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()

    item_id = f"msg_{response_id}"
    try:
        shell = _response_object(response_id, created, model, body, status="in_progress", output=[])
        yield event("response.created", response=shell)
        yield event("response.in_progress", response=shell)
        message_open = False
        text = []
        for piece in stream:
            if piece.delta:
                if not message_open:
                    message_open = True
                    yield event("response.output_item.added", output_index=0, item={
                        "type": "message", "id": item_id, "status": "in_progress", "role": "assistant",
                        "content": []})
                    yield event("response.content_part.added", item_id=item_id, output_index=0, content_index=0,
                                part={"type": "output_text", "text": "", "annotations": [], "logprobs": []})
                text.append(piece.delta)
                yield event("response.output_text.delta", item_id=item_id, output_index=0, content_index=0,
                            delta=piece.delta, logprobs=[])
        result = stream.result
        full = "".join(text)
        if message_open:
            part = {"type": "output_text", "text": full, "annotations": [], "logprobs": []}
            yield event("response.output_text.done", item_id=item_id, output_index=0, content_index=0, text=full,
                        logprobs=[])
            yield event("response.content_part.done", item_id=item_id, output_index=0, content_index=0, part=part)
            yield event("response.output_item.done", output_index=0, item={
                "type": "message", "id": item_id, "status": "completed", "role": "assistant", "content": [part]})
        output = _output_items(response_id, full, result.tool_calls if result else None)
        for index, item in enumerate(output):
            if item["type"] == "function_call":
                yield event("response.output_item.added", output_index=index, item={**item, "status": "in_progress",
                                                                                    "arguments": ""})
                yield event("response.function_call_arguments.delta", item_id=item["id"], output_index=index,
                            delta=item["arguments"])
                yield event("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                            name=item["name"], arguments=item["arguments"])
                yield event("response.output_item.done", output_index=index, item=item)
        status = "incomplete" if result and result.finish_reason == "length" else "completed"
        yield event(f"response.{status}", response=_response_object(
            response_id, created, model, body, status=status, output=output,
            usage=result.usage if result else None, result=result))
    except StreamInterrupted as error:
        yield event("error", code=error.code, message=error.message, param=None)
    finally:
        stream.close()
