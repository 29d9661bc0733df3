from apps.core.errors import ApplicationError, Kind


class SubmitError(ApplicationError):
    """A submission refused before anything was written."""

    def __init__(self, code: str, message: str, *, kind: str = Kind.INVALID, fields: dict | None = None,
                 retry_after: float | None = None):
        super().__init__(message, code=code, kind=kind, fields=fields, retry_after=retry_after)


class UploadError(ApplicationError):
    """An upload refused before anything was stored; `code` is stable for the studio and the API."""

    def __init__(self, code: str, message: str, *, kind: str = Kind.INVALID):
        super().__init__(message, code=code, kind=kind)
