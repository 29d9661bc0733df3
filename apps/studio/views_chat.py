"""The chat page of text models: threads, follow-ups, streamed answers, the price of each turn.

Two ways to send a question, over the same services (threads.py -> apps.generations.chat):
- the form posts normally (no JavaScript): the whole answer is waited for, then the thread is
  shown again (post/redirect/get) with the answer and its charge;
- static/js/chat.js posts the same form to the `stream` twin, which answers text/event-stream:
  the tokens as they come, then the turn as the page draws it (with its charge).
Failed turns are kept in the thread with a sentence saying why; nothing is charged for them."""
from __future__ import annotations

import json
from typing import Iterator

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.catalog.models import AIModel, Modality
from apps.catalog.presentation import model_reference
from apps.core.http import status_for
from apps.generations.chat import StreamInterrupted

from .common import current_workspace
from .forms import ChatTurnForm
from .models import ChatThread, ThreadTurn
from .threads import (
    Asked,
    thread_get,
    thread_list,
    thread_start,
    thread_turns,
    turn_ask,
    turn_failed,
    turn_stream_start,
)


def _text_model_or_404(slug: str) -> AIModel:
    return get_object_or_404(AIModel, slug=slug, enabled=True, modality=Modality.TEXT)


def _thread_or_404(request, pk) -> ChatThread:
    try:
        return thread_get(workspace=current_workspace(request), pk=pk)
    except ChatThread.DoesNotExist:
        raise Http404("Not found.") from None  # another workspace's thread is not there at all


def _page(request, *, model: AIModel, thread: ChatThread | None, form: ChatTurnForm | None = None,
          status: int = 200):
    turns = thread_turns(thread=thread) if thread else []
    if form is None:
        # After a failed turn the question is offered again, so trying once more is one click.
        draft = turns[-1].prompt if turns and turns[-1].error and turns[-1].generation_id is None else ""
        form = ChatTurnForm(model=model, initial={"prompt": draft})
    context = {"model": model, "thread": thread, "turns": turns, "form": form,
               # Where the answers come from (sandbox or a real channel); the full reference is
               # drawn below a new chat only.
               "reference": model_reference(model=model, site_url=request.build_absolute_uri("/"))}
    if request.user.is_authenticated:
        context["threads"] = thread_list(workspace=current_workspace(request), model=model)[:50]
    if thread:
        context["send_url"] = reverse("studio:chat_send", args=[thread.pk])
        context["stream_url"] = reverse("studio:chat_stream", args=[thread.pk])
    else:
        context["send_url"] = reverse("studio:chat_start", args=[model.slug])
        context["stream_url"] = reverse("studio:chat_start_stream", args=[model.slug])
    return render(request, "studio/chat.html", context, status=status)


def model_chat(request, model: AIModel):
    """A text model's studio page: a new chat (models/<slug>/ renders this for text models)."""
    return _page(request, model=model, thread=None)


@login_required
def chats(request):
    """Every chat of the workspace, across text models, and the text models to start one with."""
    threads = thread_list(workspace=current_workspace(request))[:200]
    models = AIModel.objects.filter(enabled=True, modality=Modality.TEXT).order_by("sort_order", "name")
    return render(request, "studio/chats.html", {"threads": threads, "text_models": models})


@login_required
def thread_page(request, pk):
    thread = _thread_or_404(request, pk)
    return _page(request, model=thread.model, thread=thread)


def _ask(request, thread: ChatThread, form: ChatTurnForm) -> Asked:
    return turn_ask(thread=thread, user=request.user, workspace=current_workspace(request),
                    prompt=form.cleaned_data["prompt"], max_tokens=form.cleaned_data.get("max_tokens"))


def _back_to(turn: ThreadTurn):
    return redirect(reverse("studio:chat_thread", args=[turn.thread_id]) + f"#turn-{turn.pk}")


@login_required
@require_POST
def chat_start(request, slug):
    model = _text_model_or_404(slug)
    form = ChatTurnForm(request.POST, model=model)
    if not form.is_valid():
        return _page(request, model=model, thread=None, form=form, status=400)
    thread = thread_start(user=request.user, workspace=current_workspace(request), model=model,
                          prompt=form.cleaned_data["prompt"], system=form.cleaned_data.get("system") or "")
    return _back_to(_ask(request, thread, form).turn)


@login_required
@require_POST
def chat_send(request, pk):
    thread = _thread_or_404(request, pk)
    form = ChatTurnForm(request.POST, model=thread.model)
    if not form.is_valid():
        return _page(request, model=thread.model, thread=thread, form=form, status=400)
    return _back_to(_ask(request, thread, form).turn)


# ---- streamed ---------------------------------------------------------------------------------
def _event(kind: str, **data) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


def _turn_html(turn: ThreadTurn, model: AIModel) -> str:
    turn = ThreadTurn.objects.select_related("generation").get(pk=turn.pk)  # the settled answer and charge
    return render_to_string("studio/chat.html#turn", {"turn": turn, "model": model})


def _stream_response(body, status: int = 200) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream; charset=utf-8", status=status)
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx in front must not hold the tokens back
    return response


def _refused(message: str, status: int, **extra) -> HttpResponse:
    """A question that never reached the model: one `error` event (the status says the kind)."""
    return HttpResponse(_event("error", message=message, **extra), status=status,
                        content_type="text/event-stream; charset=utf-8")


def _answer_events(asked: Asked, model: AIModel, thread_url: str) -> Iterator[bytes]:
    """`turn` (where the thread lives), `delta` per piece of text, then `done` with the turn as
    the page draws it. Settled before `done`, unlike the API (which settles after the last
    byte): the browser's next follow-up reads this answer back from the database. If the
    browser goes away, closing the response closes this generator, and `finally` stops the
    upstream and charges what came, exactly as the API path does."""
    stream, turn = asked.stream, asked.turn
    assert stream is not None
    try:
        yield _event("turn", thread=thread_url, turn=turn.pk)
        try:
            for piece in stream:
                if piece.delta:
                    yield _event("delta", text=piece.delta)
        except StreamInterrupted as error:
            turn_failed(turn=turn, error=error)
        stream.close()
        yield _event("done", html=_turn_html(turn, model))
    finally:
        stream.close()  # idempotent: the charge is written once


class _Settling:
    """The events, with a close() the server calls when the response ends: it settles the turn
    even if the browser went away before the first event (a generator never started has no
    `finally` to run)."""

    def __init__(self, events: Iterator[bytes], asked: Asked):
        self._events, self._stream = events, asked.stream

    def __iter__(self):
        return self._events

    def close(self):
        try:
            self._events.close()  # type: ignore[attr-defined]
        finally:
            if self._stream is not None:
                self._stream.close()


def _stream(request, thread: ChatThread, form: ChatTurnForm):
    asked = turn_stream_start(thread=thread, user=request.user, workspace=current_workspace(request),
                              prompt=form.cleaned_data["prompt"], max_tokens=form.cleaned_data.get("max_tokens"))
    thread_url = reverse("studio:chat_thread", args=[thread.pk])
    if asked.stream is None:
        assert asked.error is not None
        return _refused(asked.turn.error, status_for(asked.error), thread=thread_url,
                        html=_turn_html(asked.turn, thread.model))
    return _stream_response(_Settling(_answer_events(asked, thread.model, thread_url), asked))


def _form_errors(form: ChatTurnForm) -> str:
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


@login_required
@require_POST
def chat_start_stream(request, slug):
    model = _text_model_or_404(slug)
    form = ChatTurnForm(request.POST, model=model)
    if not form.is_valid():
        return _refused(_form_errors(form), 400)
    thread = thread_start(user=request.user, workspace=current_workspace(request), model=model,
                          prompt=form.cleaned_data["prompt"], system=form.cleaned_data.get("system") or "")
    return _stream(request, thread, form)


@login_required
@require_POST
def chat_stream(request, pk):
    thread = _thread_or_404(request, pk)
    form = ChatTurnForm(request.POST, model=thread.model)
    if not form.is_valid():
        return _refused(_form_errors(form), 400)
    return _stream(request, thread, form)
