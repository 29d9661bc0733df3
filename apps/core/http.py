"""The HTTP status of each domain error kind: the one mapping the web edges share.

Surfaces with their own conventions (reference 003's table, pollinations' envelope) start from
this and rename codes; none of them decides a status anywhere else."""
from __future__ import annotations

import csv

from django.http import StreamingHttpResponse

from .errors import ApplicationError, Kind

STATUS_FOR_KIND = {
    Kind.INVALID: 400,
    Kind.UNAUTHENTICATED: 401,
    Kind.PAYMENT: 402,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.GONE: 410,
    Kind.TOO_LARGE: 413,
    Kind.UNSUPPORTED_MEDIA: 415,
    Kind.RATE_LIMITED: 429,
    Kind.INTERNAL: 500,
    Kind.UPSTREAM: 502,
    Kind.UNAVAILABLE: 503,
    Kind.TIMEOUT: 504,
}


def status_for(error: ApplicationError) -> int:
    return STATUS_FOR_KIND.get(error.kind, 400)


class _Echo:
    """A file-like that hands back what csv.writer writes, so rows stream one at a time."""

    def write(self, value):
        return value


def csv_download(rows, filename: str):
    """A streamed CSV attachment of `rows` (an iterable of lists): nothing is built in memory."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
