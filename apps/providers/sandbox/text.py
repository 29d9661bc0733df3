"""The sandbox chat engine: short, deterministic answers built from the words of the conversation.

It does not understand anything: it picks the key words of the last user message and sets
them in answer-shaped sentences, and says so. The same conversation (messages, seed,
temperature) always gets the same answer, which makes streaming, usage accounting and
max_tokens testable end to end without a model.

Tokens are word-sized: a run of letters/digits or one punctuation mark, each carrying the
whitespace before it, so the tokens of a text concatenate back to exactly that text. The
same tokenizer counts input and output tokens."""
from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from typing import Iterator

from ..base import ChatChunk, InvalidInput

TOKEN_RE = re.compile(r"\s*(?:\w+(?:'\w+)?|[^\w\s])")
STOPWORDS = set("""a an the and or but if of in on at to for with about from by as is are was were be been being
it its this that these those i me my we our you your he she they them their what which who whom how why when where
do does did can could would should will shall may might must not no yes so than then there here just also very too
please tell explain write give show make let us some any all more most much many few such only own same into over
under again further once have has had having am hi hello hey thanks thank""".split())
GREETINGS = {"hi", "hello", "hey", "hiya", "greetings", "morning", "evening"}
QUESTION_STARTS = {"what", "how", "why", "when", "who", "where", "which", "can", "could", "is", "are", "do", "does",
                   "should", "would", "will"}
OPENINGS_QUESTION = ["Good question about {a}.", "Here is a short answer on {a}.", "Let's look at {a}.",
                     "On {a}, briefly:"]
OPENINGS_REQUEST = ["Sure, here is a take on {a}.", "Happy to help with {a}.", "Here is something on {a}."]
BODY = [
    "{A} is closely tied to {b}, so it helps to look at both together.",
    "A practical first step is to write down what you expect from {a} and check it against {b}.",
    "Most people find that {a} becomes clearer with a small, concrete example.",
    "If {b} matters most to you, start there and come back to {a} later.",
    "The key trade-off is between {a} and {b}: more of one usually means less of the other.",
    "Keep {a} simple at first; you can add detail about {b} once the basics work.",
    "It is worth asking what {a} is for before deciding how much {b} it needs.",
    "A common mistake is to treat {a} and {b} as the same thing.",
]
CLOSING = "(Sandbox answer: generated locally from the words of your message, not by a language model.)"
GREETING_ANSWER = "Hello! I am the Atelier sandbox model. Ask me anything and I will answer from your own words."


def tokenize(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    return len(tokenize(text))


def _content_text(content) -> str:
    """A message's text: a string, or OpenAI-style content parts of which the text parts count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content
                        if isinstance(part, dict) and part.get("type", "text") == "text")
    return "" if content is None else str(content)


def conversation(params: dict) -> list[dict]:
    """[{role, content}] from params["messages"], or from params["prompt"] plus params["system"]."""
    messages = params.get("messages")
    if messages:
        if not isinstance(messages, list):
            raise InvalidInput("messages must be a list of {role, content} objects.")
        clean = []
        for message in messages:
            if not isinstance(message, dict) or "role" not in message:
                raise InvalidInput("Each message needs a role and content.")
            clean.append({"role": str(message["role"]), "content": _content_text(message.get("content"))})
        return clean
    prompt = str(params.get("prompt") or "")
    if not prompt.strip():
        raise InvalidInput("There is nothing to answer: give messages or a prompt.")
    system = str(params.get("system") or "").strip()
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]


def _keywords(text: str) -> list[str]:
    words = re.findall(r"[^\W_]+(?:'[^\W_]+)?", text)
    seen, keywords = set(), []
    for word in words:
        lower = word.lower()
        if lower in STOPWORDS or len(lower) < 3 or lower in seen or lower.isdigit():
            continue
        seen.add(lower)
        keywords.append(word if word.isupper() and len(word) > 1 else lower)
    return keywords


def compose_answer(messages: list[dict], *, seed: int = 0, temperature: float = 1.0) -> str:
    if messages and messages[-1]["role"] == "tool":
        result = " ".join(messages[-1]["content"].split())[:300]
        return f"The tool answered: {result} {CLOSING}"
    user_texts = [m["content"] for m in messages if m["role"] == "user"]
    last = user_texts[-1] if user_texts else (messages[-1]["content"] if messages else "")
    digest = hashlib.sha256(json.dumps([messages, seed, temperature], sort_keys=True).encode()).digest()
    rng = random.Random(int.from_bytes(digest[:16], "big"))
    keywords = _keywords(last)
    first_words = re.findall(r"[a-z]+", last.lower())
    if not keywords:
        if set(first_words) & GREETINGS or not first_words:
            return GREETING_ANSWER
        keywords = ["that"]
    while len(keywords) < 2:
        keywords.append(rng.choice(["the details", "the context", "the goal"]))
    is_question = last.rstrip().endswith("?") or (first_words and first_words[0] in QUESTION_STARTS)
    opening = rng.choice(OPENINGS_QUESTION if is_question else OPENINGS_REQUEST).format(a=keywords[0])
    sentences = [opening]
    templates = rng.sample(BODY, k=min(len(BODY), 2 + min(2, len(keywords) // 2)))
    for index, template in enumerate(templates):
        a = keywords[index % len(keywords)]
        b = keywords[(index + 1) % len(keywords)]
        sentences.append(template.format(a=a, b=b, A=a[:1].upper() + a[1:]))
    # A longer conversation gets a line that shows the earlier turns were read.
    if len(user_texts) > 1:
        earlier = _keywords(user_texts[-2])
        if earlier:
            sentences.append(f"This also connects to what you said earlier about {earlier[0]}.")
    sentences.append(CLOSING)
    return " ".join(sentences)


# ---- tools ------------------------------------------------------------------------------------
def _functions(params: dict) -> list[dict]:
    return [tool["function"] for tool in params.get("tools") or []
            if isinstance(tool, dict) and tool.get("type") == "function" and isinstance(tool.get("function"), dict)
            and tool["function"].get("name")]


def _sample(schema, words: list[str]):
    """A value that fits a JSON Schema, made from the conversation's words where text is wanted."""
    schema = schema if isinstance(schema, dict) else {}
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        wanted = schema.get("required") or list(properties)
        return {name: _sample(properties.get(name), words[index:] or words) for index, name in enumerate(wanted)}
    if kind == "array":
        return [_sample(schema.get("items"), words)]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    return words[0] if words else "sample"


def tool_call(params: dict, messages: list[dict]) -> dict | None:
    """The call a tool-using model would make now, or None to answer in text.

    tool_choice "none" never calls; a named function or "required" always calls; "auto" calls a
    function whose name shares a word with the last user message. After a tool result, the
    model answers in text."""
    functions = _functions(params)
    choice = params.get("tool_choice") or "auto"
    if not functions or choice == "none" or (messages and messages[-1]["role"] == "tool"):
        return None
    last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    words = _keywords(last)
    lowered = {w.lower() for w in re.findall(r"[a-z]+", last.lower())}
    picked = None
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        picked = next((f for f in functions if f["name"] == wanted), None)
        if picked is None:
            raise InvalidInput(f"tool_choice names {wanted!r}, which is not among the tools.")
    else:
        picked = next((f for f in functions if set(re.findall(r"[a-z]+", f["name"].lower())) & lowered), None)
        if picked is None and choice == "required":
            picked = functions[0]
    if picked is None:
        return None
    named = set(re.findall(r"[a-z]+", picked["name"].lower()))
    values = [word for word in words if word.lower() not in named] or words  # "weather in Lisbon" -> Lisbon
    arguments = json.dumps(_sample(picked.get("parameters") or {"type": "object"}, values))
    digest = hashlib.sha256(json.dumps([messages, picked["name"]], sort_keys=True).encode()).hexdigest()[:24]
    return {"id": f"call_{digest}", "type": "function", "function": {"name": picked["name"], "arguments": arguments}}


@dataclass
class ChatAnswer:
    tokens: list[str]
    finish_reason: str  # "stop" | "length" | "tool_calls"
    input_tokens: int
    tool_calls: list | None = None

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    @property
    def usage(self) -> dict:
        calls = sum(count_tokens(call["function"]["arguments"]) + 1 for call in self.tool_calls or [])
        return {"input_tokens": self.input_tokens, "output_tokens": len(self.tokens) + calls}


def answer(params: dict) -> ChatAnswer:
    messages = conversation(params)
    input_tokens = sum(count_tokens(m["content"]) for m in messages)
    call = tool_call(params, messages)
    if call is not None:
        return ChatAnswer([], "tool_calls", input_tokens, tool_calls=[call])
    temperature = params.get("temperature")
    text = compose_answer(messages, seed=int(params.get("seed") or 0),
                          temperature=float(1.0 if temperature is None else temperature))
    stops = params.get("stop") or []
    for stop in [stops] if isinstance(stops, str) else stops:
        if stop and stop in text:
            text = text[: text.index(stop)]  # like OpenAI: the stop sequence itself is not returned
    tokens = tokenize(text.rstrip())
    max_tokens = params.get("max_tokens")
    if max_tokens is not None and int(max_tokens) < len(tokens):
        if int(max_tokens) < 1:
            raise InvalidInput("max_tokens must be at least 1.")
        tokens = tokens[: int(max_tokens)]
        return ChatAnswer(tokens, "length", input_tokens)
    return ChatAnswer(tokens, "stop", input_tokens)


def stream(params: dict) -> Iterator[ChatChunk]:
    """One chunk per token, then an empty chunk carrying finish_reason and usage."""
    result = answer(params)
    for index, call in enumerate(result.tool_calls or []):
        # Like OpenAI: the call's id and name first, then its arguments in pieces.
        yield ChatChunk(tool_calls=[{"index": index, "id": call["id"], "type": "function",
                                     "function": {"name": call["function"]["name"], "arguments": ""}}])
        for piece in tokenize(call["function"]["arguments"]):
            yield ChatChunk(tool_calls=[{"index": index, "function": {"arguments": piece}}])
    for token in result.tokens:
        yield ChatChunk(delta=token)
    yield ChatChunk(delta="", finish_reason=result.finish_reason, usage=result.usage)
