"""Domain errors: what went wrong, in words and a stable code, without any HTTP.

Services raise an ApplicationError subclass; each edge (the API surfaces, the studio, the MCP
tools) has one mapping from `kind` to its own status and wording (HackSoft's ApplicationError).
`code` is what programs branch on; `message` is for people; `fields` maps a parameter to the
messages about it; `retry_after` (seconds) says when trying again can help."""
from __future__ import annotations


class Kind:
    INVALID = "invalid"  # the request is wrong as sent
    UNAUTHENTICATED = "unauthenticated"  # no or unknown credentials
    FORBIDDEN = "forbidden"  # known caller, not allowed to do this
    PAYMENT = "payment"  # not enough credits or budget
    NOT_FOUND = "not_found"  # no such thing, or not yours
    CONFLICT = "conflict"  # clashes with the current state
    GONE = "gone"  # existed, no longer usable
    TOO_LARGE = "too_large"  # the request is over a size limit
    UNSUPPORTED_MEDIA = "unsupported_media"  # an upload of a type that is not accepted
    RATE_LIMITED = "rate_limited"  # too many requests; retry_after says when
    UNAVAILABLE = "unavailable"  # temporarily unable; retrying later can work
    TIMEOUT = "timeout"  # the caller's wait ended before the work did (the work goes on)
    UPSTREAM = "upstream"  # the upstream provider failed
    INTERNAL = "internal"  # a bug on our side


class ApplicationError(Exception):
    kind = Kind.INVALID
    code = "invalid_request"

    def __init__(self, message: str = "", *, code: str | None = None, kind: str | None = None,
                 fields: dict[str, list[str]] | None = None, retry_after: float | None = None):
        self.message = message or self.__class__.__doc__ or self.code
        super().__init__(self.message)
        if code:
            self.code = code
        if kind:
            self.kind = kind
        self.fields = fields or {}
        self.retry_after = retry_after

    def __repr__(self):
        return f"{self.__class__.__name__}(code={self.code!r}, kind={self.kind!r}, message={self.message!r})"


class InvalidRequest(ApplicationError):
    kind = Kind.INVALID
    code = "invalid_request"


class NotFound(ApplicationError):
    kind = Kind.NOT_FOUND
    code = "not_found"


class Conflict(ApplicationError):
    kind = Kind.CONFLICT
    code = "conflict"


class Forbidden(ApplicationError):
    kind = Kind.FORBIDDEN
    code = "permission_denied"
