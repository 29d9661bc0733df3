"""Chat threads in the studio: a conversation with a text model, one paid turn at a time.

A thread only remembers the questions and which Generation answered each; the money, routing
and failover are the chat service's (apps.generations.chat), the same one the OpenAI-compatible
API uses. Every turn sends the whole conversation (system prompt, the earlier answered turns,
the new question) as `messages`, so a follow-up is understood in context.

    thread = thread_start(user=..., workspace=..., model=..., prompt="...")
    turn = turn_ask(thread=thread, user=..., workspace=..., prompt="...")          # the whole answer
    asked = turn_stream_start(thread=thread, user=..., workspace=..., prompt="...")  # or streamed

A turn that fails is kept with a sentence saying why (no codes); nothing is charged for it,
because the chat service released its hold or never placed one."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from apps.catalog.models import AIModel
from apps.core.errors import Kind
from apps.generations.chat import ChatFailed, ChatStream, StreamInterrupted, chat_complete, chat_open, chat_stream_start
from apps.generations.errors import SubmitError
from apps.generations.models import Generation

from .models import ChatThread, ThreadTurn

TITLE_LENGTH = 80


# ---- reading ----------------------------------------------------------------------------------
def thread_list(*, workspace, model: AIModel | None = None) -> QuerySet[ChatThread]:
    """The workspace's threads, most recently active first, with their turn count and spend."""
    threads = ChatThread.objects.filter(workspace=workspace).select_related("model", "user")
    if model is not None:
        threads = threads.filter(model=model)
    return threads.annotate(turn_count=Count("turns"), spent=Sum("turns__generation__charged"))


def thread_get(*, workspace, pk) -> ChatThread:
    """The thread `pk` if it belongs to `workspace`; raises ChatThread.DoesNotExist otherwise."""
    return ChatThread.objects.select_related("model").get(pk=pk, workspace=workspace)


def thread_turns(*, thread: ChatThread) -> list[ThreadTurn]:
    return list(thread.turns.select_related("generation"))


def _answered(turn: ThreadTurn) -> bool:
    generation = turn.generation
    return generation is not None and generation.status == Generation.Status.SUCCEEDED and bool(generation.result_text)


def thread_messages(*, thread: ChatThread, prompt: str) -> list[dict]:
    """What the model is sent for a new question: the system prompt, every earlier answered
    turn (failed ones are left out: the model never saw them), then the question."""
    messages = [{"role": "system", "content": thread.system}] if thread.system else []
    for turn in thread_turns(thread=thread):
        if _answered(turn):
            messages += [{"role": "user", "content": turn.prompt},
                         {"role": "assistant", "content": turn.generation.result_text}]  # type: ignore[union-attr]
    return messages + [{"role": "user", "content": prompt}]


# ---- writing -----------------------------------------------------------------------------------
def thread_start(*, user, workspace, model: AIModel, prompt: str, system: str = "") -> ChatThread:
    """A new, empty thread titled after its first question (the question itself is a turn)."""
    if model.modality != "text":
        raise SubmitError("invalid_request", f"{model.name} is not a chat model.")
    title = " ".join(prompt.split())
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1].rstrip() + "…"
    return ChatThread.objects.create(workspace=workspace, user=user, model=model, title=title or "New chat",
                                     system=system.strip())


@dataclass
class Asked:
    """A turn that was sent: its record, and the open stream (None when it failed at once)."""

    turn: ThreadTurn
    stream: ChatStream | None = None
    error: SubmitError | None = None


def _open(*, thread: ChatThread, user, workspace, prompt: str, max_tokens: int | None):
    """Record the turn and pay for it (the chat service holds the most it can cost)."""
    params: dict = {"messages": thread_messages(thread=thread, prompt=prompt)}
    if max_tokens:
        params["max_tokens"] = max_tokens
    turn = ThreadTurn(thread=thread, prompt=prompt)
    try:
        paid = chat_open(user=user, workspace=workspace, wallet=workspace.wallet, model=thread.model,
                         raw_params=params, source="web")
    except SubmitError as exc:
        turn.error = failure_sentence(exc)
        _save(turn)
        return turn, None, exc
    turn.generation = paid.generation
    _save(turn)
    return turn, paid, None


def _save(turn: ThreadTurn) -> None:
    turn.save()
    ChatThread.objects.filter(pk=turn.thread_id).update(updated_at=timezone.now())


def turn_ask(*, thread: ChatThread, user, workspace, prompt: str, max_tokens: int | None = None) -> Asked:
    """Ask and wait for the whole answer (the page without JavaScript)."""
    turn, paid, error = _open(thread=thread, user=user, workspace=workspace, prompt=prompt, max_tokens=max_tokens)
    if paid is None:
        return Asked(turn=turn, error=error)
    try:
        chat_complete(turn=paid)  # captures what was used before the page is drawn
    except ChatFailed as exc:
        turn_failed(turn=turn, error=exc)
        return Asked(turn=turn, error=exc)
    return Asked(turn=turn)


def turn_stream_start(*, thread: ChatThread, user, workspace, prompt: str, max_tokens: int | None = None) -> Asked:
    """Ask and open the streamed answer (failover is over once this returns a stream). The
    caller iterates asked.stream and must close() it, also when the browser goes away."""
    turn, paid, error = _open(thread=thread, user=user, workspace=workspace, prompt=prompt, max_tokens=max_tokens)
    if paid is None:
        return Asked(turn=turn, error=error)
    try:
        return Asked(turn=turn, stream=chat_stream_start(turn=paid))
    except ChatFailed as exc:
        turn_failed(turn=turn, error=exc)
        return Asked(turn=turn, error=exc)


def turn_failed(*, turn: ThreadTurn, error: SubmitError) -> None:
    turn.error = failure_sentence(error)
    turn.save(update_fields=["error"])


def failure_sentence(error: SubmitError) -> str:
    """Why a turn was not answered, for people: no codes, and what was (not) charged."""
    if isinstance(error, StreamInterrupted):
        return "The answer was cut off: the model stopped responding. What arrived is shown and was charged."
    if error.code == "member_cap_exceeded":
        return ("This turn could cost more than what is left of your monthly cap on this team; a team admin can "
                "raise it. Nothing was charged.")
    if error.kind == Kind.PAYMENT:
        return ("There are not enough credits for this turn: the hold covers the longest answer the model may give. "
                "Top up or redeem a code on the Wallet page, or lower the max output tokens. Nothing was charged.")
    if error.kind == Kind.FORBIDDEN:
        return "This message was refused by the content policy. Nothing was charged."
    if error.kind == Kind.RATE_LIMITED or (error.kind == Kind.UPSTREAM and error.retry_after):
        wait = f" in about {int(error.retry_after)} seconds" if error.retry_after else " in a moment"
        return f"The model is receiving too many requests right now. Try again{wait}. Nothing was charged."
    if error.kind == Kind.UPSTREAM:
        return "The model could not answer right now: every provider failed. Nothing was charged; try again shortly."
    if error.kind == Kind.INVALID and error.fields:
        said = " ".join(message for messages in error.fields.values() for message in messages)
        return f"{said} Nothing was charged."
    if error.kind == Kind.INVALID:
        return f"The model refused this message as invalid: {error.message} Nothing was charged."
    return f"{error.message} Nothing was charged."
