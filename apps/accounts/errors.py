from apps.core.errors import ApplicationError, Kind


class TeamError(ApplicationError):
    """A refused team action, with a stable code for the UI and the API."""

    def __init__(self, code: str, message: str, kind: str = Kind.INVALID):
        super().__init__(message, code=code, kind=kind)


def not_found() -> TeamError:
    # Another account's workspace answers exactly like one that does not exist.
    return TeamError("not_found", "Not found.", Kind.NOT_FOUND)


def not_allowed() -> TeamError:
    return TeamError("forbidden", "Only the team's owners and admins can do this.", Kind.FORBIDDEN)
