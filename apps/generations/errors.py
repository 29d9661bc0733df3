class SubmitError(Exception):
    """A submission refused before anything was written."""

    def __init__(self, code: str, message: str, *, status: int = 400, fields: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}
