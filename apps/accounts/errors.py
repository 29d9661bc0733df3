class TeamError(Exception):
    """A refused team action, with a stable code for the UI and the API."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def not_found() -> TeamError:
    # Another account's workspace answers exactly like one that does not exist.
    return TeamError("not_found", "Not found.", 404)


def not_allowed() -> TeamError:
    return TeamError("forbidden", "Only the team's owners and admins can do this.", 403)
