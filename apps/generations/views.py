"""The one HTTP view of this app: a local media file behind a signed, expiring link.

On S3 the links are presigned and S3 checks them; this view only serves local storage's."""
import mimetypes

from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_safe

from .storage import signer


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
    except (FileNotFoundError, IsADirectoryError, SuspiciousFileOperation):
        raise Http404("No such file.") from None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = f"private, max-age={left}"
    # Served from the site's own origin: never let a stored file act as a page.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Referrer-Policy"] = "no-referrer"
    return response
