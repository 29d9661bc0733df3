class SubmitError(Exception):
    """A submission refused before anything was written."""

    def __init__(self, code: str, message: str, *, status: int = 400, fields: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}


class UploadError(Exception):
    """An upload refused before anything was stored; `code` is stable for the studio and the API."""

    def __init__(self, code: str, message: str, *, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
