"""Studio request shapes as Django forms.

`GenerationForm` is built from a model's parameter schema: one form field per schema field,
with the widget and HTML constraints the schema implies, plus a file input beside every
field that takes an image, audio or video URL. The form only parses (text to lists, ticks to
booleans, files); what is valid is decided by the one schema validator behind
generation_submit/generation_quote, whose per-field messages are put back on the form."""
from __future__ import annotations

from datetime import date

from django import forms
from django.core.validators import MaxValueValidator

from apps.catalog.models import AIModel, Modality
from apps.generations.models import Generation
from apps.generations.selectors import HistoryFilters
from apps.wallet.money import credits_to_milli

IMAGE_TYPES = "image/png,image/jpeg,image/webp,image/gif"
VIDEO_TYPES = "video/mp4,video/quicktime,video/webm"
AUDIO_TYPES = "audio/mpeg,audio/wav,audio/x-wav,audio/ogg,audio/flac,audio/mp4"
ACCEPT = {"image": IMAGE_TYPES, "video": VIDEO_TYPES, "audio": AUDIO_TYPES,
          "media": ",".join((IMAGE_TYPES, VIDEO_TYPES, AUDIO_TYPES))}
FILE_SUFFIX = "__file"


def input_media_kind(spec: dict) -> str | None:
    """What a URL field takes, from its name: image (the default), video, audio, or any
    ("media" fields like Seedance's reference media). None for fields that are not inputs."""
    if spec["type"] not in {"url", "url_list"}:
        return None
    name = spec["name"]
    if "audio" in name:
        return "audio"
    if "video" in name or "clip" in name:
        return "video"
    if name.startswith("media"):
        return "media"
    return "image"


def accepts(spec: dict, kind: str) -> bool:
    """Whether a field takes a file of `kind` (image, video, audio)."""
    media = input_media_kind(spec)
    return media == kind or media == "media"


class _FileInput(forms.FileInput):
    allow_multiple_selected = True  # URL lists take several files at once


class _FilesField(forms.FileField):
    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(_FilesField, self).clean(item, initial) for item in data]
        return super().clean(data, initial)


class _Unchecked(forms.ChoiceField):
    """A select whose value the schema validator checks (with the message people read)."""

    def valid_value(self, value):
        return True


class _Lines(forms.CharField):
    """One URL per line, as the list the schema expects."""

    def to_python(self, value):
        text = super().to_python(value)
        return [line.strip() for line in text.splitlines() if line.strip()]


def _field_for(spec: dict) -> forms.Field:
    kind = spec["type"]
    label = spec.get("label") or spec["name"].replace("_", " ").capitalize()
    attrs = {}
    if spec.get("required"):
        attrs["required"] = True
    common = {"label": label, "required": False, "help_text": spec.get("help", "")}
    if kind == "boolean":
        return forms.BooleanField(**common)
    if kind == "enum":
        choices = [(str(choice), str(choice)) for choice in spec["choices"]]
        return _Unchecked(choices=choices, widget=forms.Select(attrs=attrs), **common)
    if kind in {"integer", "number"}:
        for key in ("min", "max"):
            if spec.get(key) is not None:
                attrs[key] = spec[key]
        attrs["step"] = spec.get("step", "any" if kind == "number" else 1)
        return forms.CharField(widget=forms.NumberInput(attrs=attrs), **common)
    if kind == "url_list":
        return _Lines(widget=forms.Textarea(attrs={**attrs, "rows": 3, "placeholder": "One URL per line"}), **common)
    if kind == "url":
        return forms.CharField(widget=forms.URLInput(attrs={**attrs, "placeholder": "https://… or drop a file"}),
                               **common)
    if spec.get("max_length"):
        attrs["maxlength"] = spec["max_length"]
    if kind in {"text", "messages"} or spec.get("widget") == "textarea":
        return forms.CharField(strip=False, widget=forms.Textarea(attrs={**attrs, "rows": 4}), **common)
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


def _as_form_value(spec: dict, value):
    if isinstance(value, bool) or value is None:
        return value
    if spec["type"] == "url_list" and isinstance(value, list):
        return "\n".join(str(item) for item in value)
    if spec["type"] == "messages" and not isinstance(value, str):
        import json

        return json.dumps(value, ensure_ascii=False)  # the form takes the chat as JSON text
    return str(value)


class GenerationForm(forms.Form):
    submit_token = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, files=None, *, model: AIModel, values: dict | None = None, **kwargs):
        # Structured values only programs send (tools, response_format) are not form fields.
        specs = [spec for spec in model.schema.get("fields", []) if not spec.get("api_only")]
        initial = {spec["name"]: _as_form_value(spec, spec.get("default")) for spec in specs}
        for name, value in (values or {}).items():
            spec = next((s for s in specs if s["name"] == name), None)
            if spec is not None:
                initial[name] = _as_form_value(spec, value)
        super().__init__(data, files, initial=initial, label_suffix="", **kwargs)
        self.model = model
        self.specs = specs
        for spec in specs:
            self.fields[spec["name"]] = _field_for(spec)
            media = input_media_kind(spec)
            if media:
                attrs = {"accept": ACCEPT[media], "class": "file-input"}
                if spec["type"] == "url_list":
                    attrs["multiple"] = True
                self.fields[spec["name"] + FILE_SUFFIX] = _FilesField(
                    required=False, label=f"Upload a file for {self.fields[spec['name']].label}",
                    widget=_FileInput(attrs=attrs))

    # ---- reading ------------------------------------------------------------------------------
    def raw_params(self) -> dict:
        """The params as typed: only the schema's fields, empty ones left out (unticked boxes
        are False). Call after is_valid(); parsing never fails, validation is the schema's."""
        data = self.cleaned_data
        raw = {}
        for spec in self.specs:
            value = data.get(spec["name"])
            if spec["type"] == "boolean":
                raw[spec["name"]] = bool(value)
            elif value not in (None, "", []):
                raw[spec["name"]] = value
        return raw

    def uploaded_files(self) -> list[tuple[dict, object]]:
        """(field spec, uploaded file) for every file chosen in the form (no-JavaScript uploads)."""
        picked = []
        for spec in self.specs:
            if input_media_kind(spec):
                picked += [(spec, file) for file in self.files.getlist(spec["name"] + FILE_SUFFIX)] if self.files else []
        return picked

    def put_url(self, spec: dict, url: str, raw: dict) -> None:
        """Fill a field with an uploaded file's Atelier URL (appended for URL lists)."""
        name = spec["name"]
        if spec["type"] == "url_list":
            raw[name] = [*raw.get(name, []), url]
        else:
            raw[name] = url
        if self.is_bound:
            self.data = self.data.copy()
            self.data[name] = _as_form_value(spec, raw[name])

    def add_field_errors(self, errors: dict) -> None:
        for name, messages in errors.items():
            self.add_error(name if name in self.fields else None, list(messages))

    # ---- rendering ----------------------------------------------------------------------------
    def rows(self, advanced: bool) -> list[dict]:
        rows = []
        for spec in self.specs:
            if bool(spec.get("advanced")) != advanced:
                continue
            bound = self[spec["name"]]
            describedby = []
            if spec.get("help"):
                describedby.append(f"help-{spec['name']}")
            if bound.errors:
                describedby.append(f"err-{spec['name']}")
                bound.field.widget.attrs["aria-invalid"] = "true"
            if describedby:
                bound.field.widget.attrs["aria-describedby"] = " ".join(describedby)
            media = input_media_kind(spec)
            rows.append({"spec": spec, "field": bound, "media": media, "required": bool(spec.get("required")),
                         "file": self[spec["name"] + FILE_SUFFIX] if media else None,
                         "widget": "checkbox" if spec["type"] == "boolean" else spec["type"]})
        return rows

    @property
    def basic_rows(self):
        return self.rows(advanced=False)

    @property
    def advanced_rows(self):
        return self.rows(advanced=True)

    @property
    def advanced_open(self) -> bool:
        """'More settings' stays open when an advanced field has an error or a non-default value
        (after a submit, or 'Run again')."""
        for spec in self.specs:
            if not spec.get("advanced"):
                continue
            bound = self[spec["name"]]
            if bound.errors:
                return True
            value, default = bound.value(), _as_form_value(spec, spec.get("default"))
            if spec["type"] == "boolean":
                if bool(value) != bool(default):
                    return True
            elif str(value if value is not None else "") != str(default if default is not None else ""):
                return True
        return False


# ---- history filters --------------------------------------------------------------------------
STATUS_CHOICES = [("", "Any status"), ("pending", "Queued or running"), *Generation.Status.choices]


class HistoryFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search prompts")
    modality = forms.ChoiceField(required=False, choices=[("", "All kinds"), *Modality.choices], label="Kind")
    model = forms.CharField(required=False, max_length=80, label="Model")
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES, label="Status")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    favorites = forms.BooleanField(required=False, label="Favorites only")

    FIELDS = ("q", "modality", "model", "status", "date_from", "date_to", "favorites")

    def filters(self, *, model: AIModel | None = None) -> HistoryFilters:
        """Filters from whatever parsed; a malformed value is dropped rather than an error page."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.FIELDS if name not in self.errors}
        return HistoryFilters(
            modality=data.get("modality") or "", model_id=model.pk if model else None,
            status=data.get("status") or "", date_from=data.get("date_from"), date_to=data.get("date_to"),
            favorites=bool(data.get("favorites")), query=(data.get("q") or "").strip(),
        )

    def query(self) -> dict:
        """The active filters as query parameters (for load-more and watcher URLs)."""
        self.is_valid()
        out = {}
        for name in self.FIELDS:
            value = self.cleaned_data.get(name) if name not in self.errors else None
            if value in (None, "", False):
                continue
            out[name] = value.isoformat() if isinstance(value, date) else ("1" if value is True else value)
        return out


class LowBalanceForm(forms.Form):
    threshold = forms.DecimalField(required=False, min_value=0, decimal_places=3, max_digits=15,
                                   label="Alert me below", help_text="Credits available. Leave empty to turn the alert off.")

    def milli(self) -> int | None:
        value = self.cleaned_data.get("threshold")
        return credits_to_milli(value) if value else None


class ChatTurnForm(forms.Form):
    """One question of a chat thread. Lengths and the max_tokens range are the model schema's to
    judge (chat_open validates the messages); the form only parses."""

    prompt = forms.CharField(label="Your message", max_length=100_000,
                             widget=forms.Textarea(attrs={"rows": 3, "id": "chat-prompt"}),
                             error_messages={"required": "Write a message first."})
    system = forms.CharField(label="System prompt (optional)", required=False, max_length=100_000,
                             widget=forms.Textarea(attrs={"rows": 2, "id": "chat-system"}))
    max_tokens = forms.IntegerField(label="Max output tokens", required=False, min_value=1,
                                    widget=forms.NumberInput(attrs={"id": "chat-max-tokens"}))

    def __init__(self, *args, model: AIModel, **kwargs):
        super().__init__(*args, **kwargs)
        spec = next((spec for spec in model.schema.get("fields", []) if spec["name"] == "max_tokens"), None)
        if spec is not None:
            field = self.fields["max_tokens"]
            field.initial = spec.get("default")
            if spec.get("max"):
                field.validators.append(MaxValueValidator(int(spec["max"])))
                field.widget.attrs["max"] = int(spec["max"])
            field.help_text = (f"Up to {int(spec['max']):,}. " if spec.get("max") else "") + \
                "The hold covers this many output tokens; you pay for what the answer uses."
