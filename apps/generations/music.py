"""Songs the way reference 001's music tools describe them, on any music model of the catalog.

A caller (POST /v1/music, the MCP tool generate_music) speaks one vocabulary: a prompt, a style,
lyrics or instrumental, a title and a duration. Music models each take a part of it under their
own names (MiniMax: a style prompt and required lyrics; Eleven Music: a prompt, a length and an
instrumental switch; ACE-Step: genre tags, lyrics, a length). music_submit maps the options onto
the chosen model and submits one ordinary generation (same validator, price, hold and worker):

- style goes to the model's `style` field, or in front of the prompt when it has none;
- lyrics and instrumental go to the model's fields; lyrics for a model that writes its own, or
  an instrumental from a model that always sings, are refused (a 400 naming the option), so a
  song is never silently different from what was asked;
- title and duration are presentation and length hints: a model without them ignores them and
  the submission lists them in `ignored`.

The result is a Generation; its status view lists `songs` (audio_url, title, lyrics, image_url)."""
from __future__ import annotations

from dataclasses import dataclass, field

from apps.catalog.models import AIModel
from apps.catalog.services import model_find
from apps.core.errors import Kind

from .errors import SubmitError
from .models import Generation
from .services import generation_submit

# The catalog's music model that takes every option of reference 001 (tags, lyrics or
# instrumental, duration); any other music model can be named per request.
DEFAULT_MUSIC_MODEL = "ace-step"
MAX_PROMPT = 3000
MAX_LYRICS = 10_000
MAX_TITLE = 120
MAX_STYLE = 300


@dataclass
class MusicSubmission:
    generation: Generation
    created: bool  # False: an Idempotency-Key replay of an earlier request
    ignored: list[str] = field(default_factory=list)  # options the model does not take


def music_model(model: AIModel | str | None) -> AIModel:
    """The music model for a request: an AIModel, a slug or alias, or the default."""
    if isinstance(model, AIModel):
        found = model
    else:
        name = (model or DEFAULT_MUSIC_MODEL).strip()
        found = model_find(slug_or_alias=name)
        if found is None:
            raise SubmitError("invalid_model", f"Unknown model id {name!r}. See GET /v1/models?modality=music.",
                              kind=Kind.NOT_FOUND, fields={"model": ["Unknown model."]})
    if found.modality != "music":
        raise SubmitError("invalid_request", f"{found.slug} is a {found.modality} model, not a music model.",
                          fields={"model": ["Choose a music model (GET /v1/models?modality=music)."]})
    return found


def _refuse(name: str, message: str) -> SubmitError:
    return SubmitError("invalid_request", message, fields={name: [message]})


def _text(name: str, value, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _refuse(name, f"{name} must be text.")
    value = value.strip()
    if len(value) > limit:
        raise _refuse(name, f"{name} is at most {limit} characters.")
    return value


def music_params(model: AIModel, *, prompt: str = "", style: str = "", lyrics: str = "", instrumental: bool = False,
                 title: str = "", duration: int | None = None) -> tuple[dict, list[str]]:
    """Reference 001's song options -> the model's own params, and the options it ignores."""
    prompt, style = _text("prompt", prompt, MAX_PROMPT), _text("style", style, MAX_STYLE)
    lyrics, title = _text("lyrics", lyrics, MAX_LYRICS), _text("title", title, MAX_TITLE)
    if not isinstance(instrumental, bool):
        raise _refuse("instrumental", "instrumental must be true or false.")
    if not prompt and not style and not lyrics:
        raise _refuse("prompt", "Describe the song: give a prompt (and optionally a style).")
    if instrumental and lyrics:
        raise _refuse("lyrics", "An instrumental has no lyrics: send lyrics or instrumental, not both.")
    fields = {spec["name"] for spec in model.schema.get("fields", [])}
    params: dict = {}
    ignored: list[str] = []
    if "style" in fields:
        params["prompt"], params["style"] = prompt or style, style if prompt else ""
    else:
        params["prompt"] = ", ".join(part for part in (style, prompt) if part)
    if not params.get("style"):
        params.pop("style", None)
    if "prompt" not in fields:
        params.pop("prompt")
    if lyrics:
        if "lyrics" not in fields:
            raise _refuse("lyrics", f"{model.slug} writes its own lyrics and does not take them; choose a model "
                          "with the lyrics capability (GET /v1/models?modality=music).")
        params["lyrics"] = lyrics
    if instrumental:
        if "instrumental" in fields:
            params["instrumental"] = True
        elif "lyrics" in fields and "lyrics" in model.capabilities:
            raise _refuse("instrumental", f"{model.slug} always sings; choose a model that can make "
                          "instrumentals.")
        # Other models make instrumentals only: nothing to tell them.
    if title:
        if "title" in fields:
            params["title"] = title
        else:
            ignored.append("title")
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, int):
            raise _refuse("duration", "duration is a whole number of seconds.")
        if "duration" in fields:
            params["duration"] = duration
        else:
            ignored.append("duration")
    return params, ignored


def music_submit(*, user, workspace, prompt: str = "", style: str = "", lyrics: str = "", instrumental: bool = False,
                 title: str = "", duration: int | None = None, model: AIModel | str | None = None,
                 source: str = "api", idempotency_key: str | None = None,
                 api_key_id: int | None = None, budget_id: int | None = None) -> MusicSubmission:
    """Validate, price, hold and enqueue one song; raises SubmitError (or the model's field errors)."""
    chosen = music_model(model)
    params, ignored = music_params(chosen, prompt=prompt, style=style, lyrics=lyrics, instrumental=instrumental,
                                   title=title, duration=duration)
    generation, created = generation_submit(user=user, workspace=workspace, model=chosen, raw_params=params,
                                            source=source, idempotency_key=idempotency_key,
                                            api_key_id=api_key_id, budget_id=budget_id)
    return MusicSubmission(generation=generation, created=created, ignored=ignored)
