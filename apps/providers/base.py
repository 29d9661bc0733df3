"""The adapter interface every upstream provider implements.

An adapter turns one Job into one ProviderResult per call and never sleeps waiting for an
upstream: a synchronous upstream answers `succeeded` from submit(); an asynchronous one
answers `pending` with an upstream id and a suggested poll delay, and poll() is called later
by a short Celery task. Errors are ProviderError subclasses that say whether retrying
later can help (`permanent`) and what they belong to (`scope`): the request itself (invalid
input, content filter: no channel can do better), or the route or channel that was tried
(unknown model id there, unsupported parameter, refused credentials, misconfiguration: the
next route may work), or a passing outage (transient)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterator
from urllib.parse import urlsplit


def redacted_url(url: str | None) -> str | None:
    """A URL fit for a repr or a log line: no userinfo, no query (signed URLs carry their
    credential there), no fragment."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable URL>"
    literal = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{literal}{port}{parts.path}" + ("?..." if parts.query else "")


# ---- errors -------------------------------------------------------------------------------
# What an error belongs to; generations.services fails over on every scope but REQUEST.
REQUEST, ROUTE, CHANNEL, TRANSIENT = "request", "route", "channel", "transient"
# Codes that say the channel itself is broken, whatever class raised them.
CHANNEL_CODES = {"channel_misconfigured", "upstream_auth"}


class ProviderError(Exception):
    """Base class. `code` is stable and shown to users; `permanent` says retrying later cannot
    help; `scope` says whether another route can (anything but REQUEST)."""

    code = "upstream_error"
    permanent = False
    scope = TRANSIENT

    def __init__(self, message: str = "", *, code: str | None = None, retry_after: float | None = None,
                 status: int | None = None, scope: str | None = None):
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        if code:
            self.code = code
        if scope:
            self.scope = scope
        elif self.code in CHANNEL_CODES:
            self.scope = CHANNEL
        self.retry_after = retry_after
        self.status = status
        self.body = None  # the upstream's decoded error answer, when there was one (http.error_for)

    @property
    def fails_over(self) -> bool:
        """Whether the next route may succeed where this one failed."""
        return self.scope != REQUEST


class TransientError(ProviderError):
    """The upstream is unavailable right now (connection error, timeout, 5xx)."""

    code = "upstream_unavailable"


class UpstreamTimeout(TransientError):
    """The upstream did not answer in time."""

    code = "upstream_timeout"


class RateLimited(TransientError):
    """The upstream is rate limiting this account."""

    code = "upstream_rate_limited"


class PermanentError(ProviderError):
    """The request cannot succeed as it is, on any channel."""

    code = "upstream_rejected"
    permanent = True
    scope = REQUEST


class InvalidInput(PermanentError):
    """The upstream rejected the parameters."""

    code = "invalid_input"


class RouteUnsupported(InvalidInput):
    """This upstream does not take a parameter, a value or the model id of the request; Atelier's
    validator accepted them, so another route may."""

    scope = ROUTE


class ContentFiltered(PermanentError):
    """The prompt or the result was blocked by the provider's content policy."""

    code = "content_filtered"


class AuthError(PermanentError):
    """The channel's credentials were refused by the upstream."""

    # Permanent for this request as sent, but a different channel has different keys,
    # so the router treats auth failures as a reason to try the next channel.
    code = "upstream_auth"
    scope = CHANNEL


class NotFound(PermanentError):
    """The upstream does not know this model or task."""

    # At submit, an unknown model id belongs to the route; while polling, the task is gone
    # and the job fails (polls never fail over).
    code = "upstream_not_found"
    scope = ROUTE




class ModelUnavailable(PermanentError):
    """The model cannot run on this server."""

    code = "model_unavailable"
    scope = ROUTE


# ---- values -------------------------------------------------------------------------------
@dataclass(repr=False)
class OutputFile:
    """One produced file: bytes in hand, or a URL to download (Atelier stores it either way).
    Its repr shows the size, not the bytes, and the URL without its query (signed URLs)."""

    mime: str
    data: bytes | None = None
    url: str | None = None
    role: str = "main"  # "main" or "cover" (a song's artwork)
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    meta: dict = field(default_factory=dict)  # e.g. title, lyrics for songs

    def __repr__(self):
        data = f"<{len(self.data)} bytes>" if self.data is not None else None
        return f"OutputFile(mime={self.mime!r}, role={self.role!r}, data={data}, url={redacted_url(self.url)!r})"


@dataclass
class ProviderResult:
    status: str  # "succeeded" | "pending"
    outputs: list[OutputFile] = field(default_factory=list)
    upstream_id: str | None = None
    poll_after: float | None = None  # seconds until the next poll is useful
    text: str | None = None  # chat answer
    tool_calls: list | None = None  # chat: OpenAI-shaped [{id, type, function: {name, arguments}}]
    finish_reason: str | None = None  # chat: stop | length | tool_calls | content_filter
    usage: dict = field(default_factory=dict)  # {"input_tokens", "output_tokens"} or {"characters"}
    upstream_cost: Decimal | None = None
    progress: int | None = None  # 0..100 where the upstream reports it

    SUCCEEDED = "succeeded"
    PENDING = "pending"


@dataclass(repr=False)
class ChannelConfig:
    """A channel's settings with its key decrypted. The repr (and so every log line, error and
    traceback that formats one) shows neither the key nor option values (options may carry
    extra auth headers) nor the base URL's userinfo or query."""

    name: str
    adapter: str
    base_url: str = ""
    api_key: str = ""
    options: dict = field(default_factory=dict)
    max_concurrent: int = 0  # jobs in flight at this upstream account at once; 0 = no limit

    def __repr__(self):
        return (f"ChannelConfig(name={self.name!r}, adapter={self.adapter!r}, "
                f"base_url={redacted_url(self.base_url)!r}, "
                f"api_key={'<set>' if self.api_key else '<empty>'}, options=<keys {sorted(self.options or {})}>, "
                f"max_concurrent={self.max_concurrent})")


@dataclass(repr=False)
class Job:
    """What an adapter is asked to do. The repr names the parameters without their values
    (source URLs may be signed) and formats the channel through its safe repr."""

    id: str  # Atelier's generation id, usable as an upstream idempotency key
    modality: str
    upstream_model: str
    params: dict
    channel: ChannelConfig
    timeout: float = 60.0
    # The workspace's own media among the params' URLs: URL -> storage name (apps/providers/inputs.py).
    sources: dict = field(default_factory=dict)

    def __repr__(self):
        return (f"Job(id={self.id!r}, modality={self.modality!r}, upstream_model={self.upstream_model!r}, "
                f"params=<keys {sorted(self.params or {})}>, channel={self.channel!r}, timeout={self.timeout})")


@dataclass
class ChatChunk:
    """One piece of a streamed answer. `tool_calls` are OpenAI's streamed deltas:
    [{index, id?, type?, function: {name?, arguments}}], arguments arriving in fragments."""

    delta: str = ""
    finish_reason: str | None = None
    usage: dict | None = None
    tool_calls: list | None = None


class Adapter:
    """Subclasses set `name` and implement submit (and poll/cancel for async upstreams)."""

    name = ""
    supports_cancel = False

    def __init__(self, channel: ChannelConfig):
        self.channel = channel

    def __repr__(self):
        return f"{self.__class__.__name__}(channel={self.channel!r})"

    def submit(self, job: Job) -> ProviderResult:
        raise NotImplementedError

    def poll(self, job: Job, upstream_id: str) -> ProviderResult:
        raise NotFound(f"{self.name} has no asynchronous jobs to poll")

    def cancel(self, job: Job, upstream_id: str) -> None:
        return None

    def moderate(self, texts: list[str], *, model: str) -> list[str]:
        """The categories a moderation model flags in `texts` ([] = nothing flagged)."""
        raise NotImplementedError(f"{self.name} has no moderation endpoint")

    def stream_chat(self, job: Job) -> Iterator[ChatChunk]:
        """Token-by-token chat; adapters without streaming yield the whole answer once."""
        result = self.submit(job)
        calls = [{"index": index, **call} for index, call in enumerate(result.tool_calls or [])] or None
        yield ChatChunk(delta=result.text or "", tool_calls=calls,
                        finish_reason=result.finish_reason or ("tool_calls" if calls else "stop"), usage=result.usage)
