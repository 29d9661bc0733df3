"""The adapter interface every upstream provider implements.

An adapter turns one Job into one ProviderResult per call and never sleeps waiting for an
upstream: a synchronous upstream answers `succeeded` from submit(); an asynchronous one
answers `pending` with an upstream id and a suggested poll delay, and poll() is called later
by a short Celery task. Errors are ProviderError subclasses that say whether retrying
elsewhere can help (`permanent`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterator


# ---- errors -------------------------------------------------------------------------------
class ProviderError(Exception):
    """Base class. `code` is stable and shown to users; `permanent` says failover cannot help."""

    code = "upstream_error"
    permanent = False

    def __init__(self, message: str = "", *, code: str | None = None, retry_after: float | None = None,
                 status: int | None = None):
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        if code:
            self.code = code
        self.retry_after = retry_after
        self.status = status


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


class InvalidInput(PermanentError):
    """The upstream rejected the parameters."""

    code = "invalid_input"


class ContentFiltered(PermanentError):
    """The prompt or the result was blocked by the provider's content policy."""

    code = "content_filtered"


class AuthError(PermanentError):
    """The channel's credentials were refused by the upstream."""

    # Permanent for this request as sent, but a different channel has different keys,
    # so the router treats auth failures as a reason to try the next channel.
    code = "upstream_auth"


class NotFound(PermanentError):
    """The upstream does not know this model or task."""

    code = "upstream_not_found"


class ModelUnavailable(PermanentError):
    """The model cannot run on this server."""

    code = "model_unavailable"


# ---- values -------------------------------------------------------------------------------
@dataclass
class OutputFile:
    """One produced file: bytes in hand, or a URL to download (Atelier stores it either way)."""

    mime: str
    data: bytes | None = None
    url: str | None = None
    role: str = "main"  # "main" or "cover" (a song's artwork)
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    meta: dict = field(default_factory=dict)  # e.g. title, lyrics for songs


@dataclass
class ProviderResult:
    status: str  # "succeeded" | "pending"
    outputs: list[OutputFile] = field(default_factory=list)
    upstream_id: str | None = None
    poll_after: float | None = None  # seconds until the next poll is useful
    text: str | None = None  # chat answer
    usage: dict = field(default_factory=dict)  # {"input_tokens", "output_tokens"} or {"characters"}
    upstream_cost: Decimal | None = None
    progress: int | None = None  # 0..100 where the upstream reports it

    SUCCEEDED = "succeeded"
    PENDING = "pending"


@dataclass
class ChannelConfig:
    name: str
    adapter: str
    base_url: str = ""
    api_key: str = ""
    options: dict = field(default_factory=dict)
    max_concurrent: int = 0  # jobs in flight at this upstream account at once; 0 = no limit


@dataclass
class Job:
    """What an adapter is asked to do."""

    id: str  # Atelier's generation id, usable as an upstream idempotency key
    modality: str
    upstream_model: str
    params: dict
    channel: ChannelConfig
    timeout: float = 60.0
    # The workspace's own media among the params' URLs: URL -> storage name (apps/providers/inputs.py).
    sources: dict = field(default_factory=dict)


@dataclass
class ChatChunk:
    delta: str = ""
    finish_reason: str | None = None
    usage: dict | None = None


class Adapter:
    """Subclasses set `name` and implement submit (and poll/cancel for async upstreams)."""

    name = ""
    supports_cancel = False

    def __init__(self, channel: ChannelConfig):
        self.channel = channel

    def submit(self, job: Job) -> ProviderResult:
        raise NotImplementedError

    def poll(self, job: Job, upstream_id: str) -> ProviderResult:
        raise NotFound(f"{self.name} has no asynchronous jobs to poll")

    def cancel(self, job: Job, upstream_id: str) -> None:
        return None

    def stream_chat(self, job: Job) -> Iterator[ChatChunk]:
        """Token-by-token chat; adapters without streaming yield the whole answer once."""
        result = self.submit(job)
        yield ChatChunk(delta=result.text or "", finish_reason="stop", usage=result.usage)
