"""The one HTTP view of this app: a local media file behind a signed, expiring link.

On S3 the links are presigned and S3 checks them; this view only serves local storage's."""
import mimetypes
import re

from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_safe

from .storage import signer

SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `Range: bytes=a-b` that fits the file; None when there is none to honour."""
    found = SINGLE_RANGE.match(header.strip()) if header else None
    if not found or found.groups() == ("", ""):
        return None
    first, last = found.groups()
    if first == "":  # the last N bytes
        return max(0, size - int(last)), size - 1
    return int(first), min(int(last), size - 1) if last else size - 1


def _chunks(handle, length: int):
    with handle:
        while length > 0:
            data = handle.read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data


@require_safe
def media_file(request, name: str):
    try:
        left = signer.verify(name, expires=request.GET.get("e"), signature=request.GET.get("s"))
    except signing.SignatureExpired:
        # Made here for this file, so saying so reveals nothing; a fresh page has fresh links.
        return HttpResponse("media_link_expired: this link has expired; reload the page or fetch "
                            "the generation again for a fresh one.\n", status=403, content_type="text/plain")
    except signing.BadSignature:
        raise Http404("No such file.") from None
    try:
        handle = default_storage.open(name, "rb")
        size = default_storage.size(name)
    except (FileNotFoundError, IsADirectoryError, SuspiciousFileOperation):
        raise Http404("No such file.") from None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    wanted = _byte_range(request.headers.get("Range", ""), size)
    if wanted and wanted[0] > wanted[1]:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if wanted:  # video and audio players seek with ranges
        first, last = wanted
        handle.seek(first)
        response = FileResponse(_chunks(handle, last - first + 1), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    else:
        response = FileResponse(handle, content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = f"private, max-age={left}"
    # Served from the site's own origin: never let a stored file act as a page.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Referrer-Policy"] = "no-referrer"
    return response
