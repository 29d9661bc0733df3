"""Chat in the web process: hold the most a turn can cost, call the upstream, capture what it used.

Text does not wait for a Celery hop (DESIGN.md): the request's own process talks to the
upstream over the pooled clients in providers.http, through the same router, circuit breaker
and failover as the workers. Every turn is a Generation with a hold, so history, usage and
`wallet_audit` see it like any job:

    turn = chat_open(user=..., workspace=..., wallet=..., model=..., raw_params=...)
    result = chat_complete(turn=turn)            # or: stream = chat_stream_start(turn=turn)

Failover happens before the first byte: a transient or channel-scoped error moves to the next
channel; once a streamed answer has started, an error ends it (what arrived is charged). When a
streaming client goes away, `ChatStream.close()` closes the upstream stream and charges the
tokens received until then: the upstream's usage if it reported one, else counted. The hold
always settles exactly once (the Generation's conditional status flip guards it), and a turn
whose web process died mid-answer is released by the sweeper at its deadline."""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Iterator

from django.db import connection, transaction
from django.utils import timezone

from apps.catalog.models import AIModel
from apps.catalog.pricing import prompt_text, quote, token_cost
from apps.catalog.schema import ValidationFailed
from apps.core.db import connection_release, rows_insert_statement, update_statement
from apps.core.errors import Kind
from apps.providers.base import ChatChunk, Job, ProviderError
from apps.providers.health import channel_record_failure, channel_record_success
from apps.providers.registry import get_adapter
from apps.providers.router import RouteChoice, route_choices
from apps.wallet.errors import WalletError
from apps.wallet.models import Hold, Wallet
from apps.wallet.services import hold_capture, hold_place

from .errors import SubmitError
from .moderation import content_check
from .models import Attempt, Generation
from .services import generation_fail, generation_quote
from .signals import generation_finished

log = logging.getLogger(__name__)

# Chat parameters that describe the transport, not the answer: never stored or sent upstream.
TRANSPORT_PARAMS = ("stream",)
CHARS_PER_TOKEN = 4  # for counting what a disconnected stream delivered; upstream usage wins


class ChatFailed(SubmitError):
    """Every channel failed (or the request was refused upstream) before any answer."""


@dataclass
class ChatTurn:
    """A paid-for chat turn, ready to call the upstream.

    Once the answer is known, its charge is priced at once (the client is told it) and written
    by `settle()`: surfaces call it after the answer has left, so the capture's transaction is
    not part of the latency a client waits for. If the process dies before settle(), the
    deadline sweep releases the hold (the turn is free, never charged twice)."""

    generation: Generation
    model: AIModel
    params: dict  # what the upstream is asked (validated; defaults that exist only to price are left out)
    hold: Hold
    choices: list[RouteChoice]
    attempts: list[Attempt] = field(default_factory=list)
    _unsettled: dict | None = None

    def settle(self) -> None:
        """Write the success priced earlier (status, usage, attempts, capture), exactly once."""
        pending, self._unsettled = self._unsettled, None
        if pending is not None:
            _record_success(self, **pending)


@dataclass
class ChatResult:
    text: str
    tool_calls: list | None
    finish_reason: str
    usage: dict  # {"input_tokens", "output_tokens"}
    charged: int
    channel: str
    adapter: str
    attempts: int
    failover: bool


def _without_transport(params: dict) -> dict:
    return {name: value for name, value in params.items() if name not in TRANSPORT_PARAMS}


# ---- open -----------------------------------------------------------------------------------
def chat_open(*, user, workspace, wallet: Wallet, model: AIModel, raw_params: dict, source: str = "api",
              api_key_id: int | None = None, budget_id: int | None = None) -> ChatTurn:
    """Validate, price the worst case, hold it and record the turn as a running Generation.

    With no max_tokens the hold covers the model's largest answer (limits.max_output_tokens):
    the upstream may use all of it, and the capture charges only what it did use."""
    if model.modality != "text":
        raise SubmitError("invalid_request", f"{model.slug} is a {model.modality} model, not a chat model.",
                          fields={"model": ["Use a text model for chat."]})
    if not model.enabled:
        raise SubmitError("model_unavailable", f"The model {model.slug!r} is disabled.", kind=Kind.NOT_FOUND)
    raw = _without_transport(raw_params)
    try:
        quoted = generation_quote(model=model, raw_params=raw)
    except ValidationFailed as failure:
        raise SubmitError("invalid_request", "Some parameters are not valid.", fields=failure.errors) from None
    params = quoted.params
    content_check(workspace=workspace, user=user, model=model, params=params, source=source)
    price = quoted.price
    if raw.get("max_tokens") in (None, ""):
        params = {name: value for name, value in params.items() if name != "max_tokens"}
        largest = model.limits.get("max_output_tokens")
        if largest:
            price = quote(model.effective_pricing, {**params, "max_tokens": int(largest)})
    choices = route_choices(model=model, params=params)
    if not choices:
        raise SubmitError("model_unavailable", "No channel can serve this model now.", kind=Kind.UNAVAILABLE)
    now = timezone.now()
    try:
        generation = Generation(
            workspace_id=workspace.pk, user=user, model=model, params=params, source=source, price=price,
            api_key_id=api_key_id,
            status=Generation.Status.RUNNING, started_at=now,
            deadline_at=now + timedelta(seconds=model.deadline_seconds),
            # No worker ever picks a chat turn up: only the deadline sweep looks at it, to release
            # the hold of a turn whose web process died mid-answer.
            next_check_at=now + timedelta(seconds=model.deadline_seconds),
        )
        # The turn's row goes in with its hold: on PostgreSQL one statement, and no transaction
        # around it (the statement is one; BEGIN and COMMIT would be two more round trips).
        # Inside a caller's transaction the hold keeps its savepoint: a caller that catches the
        # refusal and goes on (an idempotency record, a test's transaction) must find it usable.
        hold = hold_place(wallet=wallet, amount=price, generation=generation, member=user, budget_id=budget_id,
                          insert_generation=True)
    except WalletError as exc:
        raise SubmitError(exc.code, exc.message, kind=exc.kind) from None
    generation.model = model
    return ChatTurn(generation=generation, model=model, params=params, hold=hold, choices=choices)


def _job(turn: ChatTurn, choice: RouteChoice) -> Job:
    return Job(id=str(turn.generation.pk), modality="text", upstream_model=choice.upstream_model,
               params=turn.params, channel=choice.channel, timeout=120.0)


def _attempt(turn: ChatTurn, choice: RouteChoice, started: float, error: ProviderError | None = None):
    outcome = "ok" if error is None else "permanent" if error.permanent else "transient"
    turn.attempts.append(Attempt(
        generation_id=turn.generation.pk, channel_name=choice.channel.name, adapter=choice.channel.adapter,
        phase="submit", outcome=outcome, error_code=error.code if error else "",
        error_message=(error.message if error else "")[:2000], latency_ms=int((time.monotonic() - started) * 1000),
    ))
    if error is None:
        channel_record_success(choice.channel.name)
    elif not error.permanent:
        channel_record_failure(choice.channel.name)


def _unexpected(exc: Exception, choice: RouteChoice) -> ProviderError:
    if isinstance(exc, LookupError):  # the channel names an adapter this install does not have
        return ProviderError(str(exc), code="channel_misconfigured")
    log.exception("adapter %s crashed on a chat turn", choice.channel.adapter)
    return ProviderError(f"Adapter error: {exc.__class__.__name__}", code="upstream_error")


def _give_up(turn: ChatTurn, error: ProviderError | None) -> ChatFailed:
    """Release the hold, record the attempts, and say why the turn could not be answered."""
    code = error.code if error else "upstream_unavailable"
    message = error.message if error else "Every channel for this model failed."
    with transaction.atomic():
        Attempt.objects.bulk_create(turn.attempts)
        generation_fail(generation=turn.generation, code=code, message=message)
    if error is not None and error.permanent and not error.fails_over:
        kind = Kind.INVALID if error.code != "content_filtered" else Kind.FORBIDDEN
        return ChatFailed(code, message, kind=kind)
    retry = error.retry_after if error else None
    return ChatFailed("upstream_error", f"All channels failed. Last error: {message}", kind=Kind.UPSTREAM,
                      retry_after=retry)


def _capture(turn: ChatTurn, choice: RouteChoice, *, text: str, tool_calls: list | None, finish_reason: str,
             usage: dict) -> int:
    """Price the answer (never more than the hold) and leave it for turn.settle() to write."""
    rule = turn.model.effective_pricing
    charged = min(token_cost(rule, int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))),
                  turn.generation.price)
    turn._unsettled = {"choice": choice, "text": text, "tool_calls": tool_calls, "finish_reason": finish_reason,
                       "usage": usage, "charged": charged}
    return charged


def _record_success(turn: ChatTurn, *, choice: RouteChoice, text: str, tool_calls: list | None, finish_reason: str,
                    usage: dict, charged: int) -> None:
    recorded = {**usage, "finish_reason": finish_reason}
    if tool_calls:
        recorded["tool_calls"] = tool_calls
    # The turn's flip from running rides in the capture's statement (on PostgreSQL one statement
    # for both); the capture happens only if the flip did, so a turn the deadline sweep failed
    # and released first is charged nothing. The statement texts are built once per process.
    flip = update_statement(Generation, where={"pk": turn.generation.pk, "status": Generation.Status.RUNNING}, values={
        "status": Generation.Status.SUCCEEDED, "charged": charged, "finished_at": timezone.now(), "progress": 100,
        "result_text": text, "usage": recorded, "next_check_at": None, "channel_name": choice.channel.name,
        "adapter": choice.channel.adapter, "upstream_model": choice.upstream_model})
    with transaction.atomic():
        if not hold_capture(hold=turn.hold, amount=charged, gate=flip):
            return
        if turn.attempts:
            with connection.cursor() as cursor:
                cursor.execute(*rows_insert_statement(turn.attempts))
        generation_finished.send(sender=Generation, generation=turn.generation, status=Generation.Status.SUCCEEDED,
                                  request_hook=False)
    turn.generation.status, turn.generation.charged = Generation.Status.SUCCEEDED, charged


def _result(turn: ChatTurn, choice: RouteChoice, charged: int, *, text, tool_calls, finish_reason, usage):
    channels = {a.channel_name for a in turn.attempts}
    return ChatResult(text=text, tool_calls=tool_calls, finish_reason=finish_reason, usage=usage, charged=charged,
                      channel=choice.channel.name, adapter=choice.channel.adapter, attempts=len(turn.attempts),
                      failover=len(channels) > 1)


# ---- one answer ---------------------------------------------------------------------------
def chat_complete(*, turn: ChatTurn, settle: bool = True) -> ChatResult:
    """The whole answer at once, failing over between channels; raises ChatFailed.

    With settle=False the caller must call turn.settle() (after sending the answer)."""
    last_error = None
    connection_release()  # the upstream may take seconds: the pool's connection serves others meanwhile
    for choice in turn.choices:
        started = time.monotonic()
        try:
            answer = get_adapter(choice.channel).submit(_job(turn, choice))
        except ProviderError as exc:
            _attempt(turn, choice, started, exc)
            last_error = exc
            if not exc.fails_over:
                break
            continue
        except Exception as exc:  # noqa: BLE001 - an adapter bug or a missing adapter: try the next channel
            last_error = _unexpected(exc, choice)
            _attempt(turn, choice, started, last_error)
            continue
        _attempt(turn, choice, started)
        finish = answer.finish_reason or ("tool_calls" if answer.tool_calls else "stop")
        usage = _usage(answer.usage, turn.params, answer.text or "", answer.tool_calls)
        charged = _capture(turn, choice, text=answer.text or "", tool_calls=answer.tool_calls, finish_reason=finish,
                           usage=usage)
        if settle:
            turn.settle()
        return _result(turn, choice, charged, text=answer.text or "", tool_calls=answer.tool_calls,
                       finish_reason=finish, usage=usage)
    raise _give_up(turn, last_error)


def _counted(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def _usage(reported: dict | None, params: dict, text: str, tool_calls: list | None) -> dict:
    """The upstream's token counts, or counted ones when it reported none."""
    if reported and ("input_tokens" in reported or "output_tokens" in reported):
        return {"input_tokens": int(reported.get("input_tokens", 0)),
                "output_tokens": int(reported.get("output_tokens", 0))}
    arguments = "".join((call.get("function") or {}).get("arguments", "") for call in tool_calls or [])
    return {"input_tokens": _counted(prompt_text(params)), "output_tokens": _counted(text + arguments),
            "counted": True}


# ---- streamed answers -----------------------------------------------------------------------
class ChatStream:
    """A started stream: the first chunk is in hand (so failover is over), the rest follows.

    Iterate it for chunks; the charge is priced when the upstream finishes or fails mid-answer
    (then StreamInterrupted is raised), and written by close(), which surfaces call when the
    response is done (also when the client went away: then the upstream is closed first)."""

    def __init__(self, turn: ChatTurn, choice: RouteChoice, upstream: Iterator[ChatChunk], first: ChatChunk | None):
        self.turn, self.choice, self._upstream, self._first = turn, choice, upstream, first
        self.text: list[str] = []
        self.calls: dict[int, dict] = {}
        self.usage: dict | None = None
        self.finish_reason: str | None = None
        self.charged: int | None = None
        self.result: ChatResult | None = None

    def __iter__(self) -> Iterator[ChatChunk]:
        try:
            if self._first is not None:
                first, self._first = self._first, None
                self._take(first)
                yield first
            for chunk in self._upstream:
                self._take(chunk)
                yield chunk
        except ProviderError as exc:
            self._price("error")
            raise StreamInterrupted(exc.code, exc.message) from exc
        self._price(self.finish_reason or "stop")

    def _take(self, chunk: ChatChunk):
        if chunk.delta:
            self.text.append(chunk.delta)
        for delta in chunk.tool_calls or []:
            call = self.calls.setdefault(int(delta.get("index", 0)), {"id": "", "type": "function",
                                                                         "function": {"name": "", "arguments": ""}})
            call["id"] = delta.get("id") or call["id"]
            function = delta.get("function") or {}
            call["function"]["name"] += function.get("name") or ""
            call["function"]["arguments"] += function.get("arguments") or ""
        if chunk.usage:
            self.usage = chunk.usage
        if chunk.finish_reason:
            self.finish_reason = chunk.finish_reason

    def _price(self, finish_reason: str):
        """The answer is over: price it (the last chunks carry the charge); close() writes it."""
        if self.charged is not None:
            return
        text = "".join(self.text)
        calls = [self.calls[index] for index in sorted(self.calls)] or None
        usage = _usage(self.usage, self.turn.params, text, calls)
        self.charged = _capture(self.turn, self.choice, text=text, tool_calls=calls, finish_reason=finish_reason,
                                usage=usage)
        self.result = _result(self.turn, self.choice, self.charged, text=text, tool_calls=calls,
                              finish_reason=finish_reason, usage=usage)

    def close(self):
        """The answer was sent, or the client went away: stop the upstream if it still streams,
        and write the charge for what came (exactly once)."""
        if self.charged is not None:
            self.turn.settle()
            return
        closer = getattr(self._upstream, "close", None)
        if closer is not None:
            try:
                closer()  # closes the upstream HTTP stream (the adapter's `with` block exits)
            except Exception:  # noqa: BLE001 - closing a dead connection must not stop the settling
                log.warning("closing the upstream stream of %s failed", self.turn.generation.pk, exc_info=True)
        self._price("client_disconnected")
        self.turn.settle()


class StreamInterrupted(SubmitError):
    """The upstream failed after the answer had started; what arrived was charged."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message, kind=Kind.UPSTREAM)


def chat_stream_start(*, turn: ChatTurn) -> ChatStream:
    """Open the upstream stream on the first channel that gives a first chunk; raises ChatFailed."""
    last_error = None
    connection_release()  # a stream may stay open for minutes without a query
    for choice in turn.choices:
        started = time.monotonic()
        upstream = None
        try:
            upstream = iter(get_adapter(choice.channel).stream_chat(_job(turn, choice)))
            first = next(upstream, None)
        except ProviderError as exc:
            if upstream is not None:
                getattr(upstream, "close", lambda: None)()
            _attempt(turn, choice, started, exc)
            last_error = exc
            if not exc.fails_over:
                break
            continue
        except Exception as exc:  # noqa: BLE001 - see chat_complete
            if upstream is not None:
                getattr(upstream, "close", lambda: None)()
            last_error = _unexpected(exc, choice)
            _attempt(turn, choice, started, last_error)
            continue
        _attempt(turn, choice, started)
        return ChatStream(turn, choice, upstream, first)
    raise _give_up(turn, last_error)
