"""Private media: storage backends whose URLs are signed and expire, and `media_url()`.

Every surface (API answers, webhooks, studio pages, share pages, links handed to upstreams)
gets a file's URL from `media_url()`. On S3 that is a presigned GET; on local storage it is a
link to `/files/<name>?e=<expires>&s=<signature>` that `apps.generations.views.media_file`
checks and serves. Either way the URL carries its own lifetime, so any web process can
check it with nothing but SECRET_KEY, and nothing is readable without one.

Expiry times are rounded up to a step (a twelfth of the lifetime, at most 5 minutes), so a
page rendered twice within a step names the same URLs and the browser's cache holds: the
studio's history re-renders every 1.5 s while a job runs. A URL therefore lives between
`ttl` and `ttl + step` seconds, never less than asked.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.deconstruct import deconstructible


def expiry_step(ttl: int) -> int:
    return max(1, min(300, ttl // 12))


class MediaSigner:
    """Signs a storage name together with an expiry time (TimestampSigner-style, but the
    lifetime travels in the signed value, so links of different lifetimes share one check).

    `clock` is injectable so tests move time instead of sleeping."""

    def __init__(self, *, salt: str = "atelier.media", clock: Callable[[], float] = time.time):
        self.salt = salt
        self.clock = clock

    def _signature(self, name: str, expires: int) -> str:
        return signing.Signer(salt=self.salt).signature(f"{name}\n{expires}")

    def sign(self, name: str, *, ttl: int) -> tuple[int, str]:
        step = expiry_step(ttl)
        expires = math.ceil((self.clock() + ttl) / step) * step
        return expires, self._signature(name, expires)

    def verify(self, name: str, *, expires: str | int | None, signature: str | None) -> int:
        """Seconds the link has left; BadSignature if it was not made here for this name,
        SignatureExpired if it was but its time is up."""
        try:
            expires = int(expires)
        except (TypeError, ValueError):
            raise signing.BadSignature("no expiry") from None
        if not signature or not constant_time_compare(signature, self._signature(name, expires)):
            raise signing.BadSignature("signature does not match")
        left = expires - self.clock()
        if left <= 0:
            raise signing.SignatureExpired(f"expired {int(-left)} s ago")
        return int(left)


signer = MediaSigner()


@deconstructible
class PrivateFileSystemStorage(FileSystemStorage):
    """Local files under MEDIA_ROOT; url() is a signed, expiring link served by Django."""

    def url(self, name, expire: int | None = None):
        expires, signature = signer.sign(name, ttl=expire or settings.MEDIA_URL_TTL)
        return f"{reverse('media_file', args=[name])}?e={expires}&s={signature}"


def media_url(file_or_name, *, ttl: int | None = None, absolute: bool = True) -> str:
    """A signed URL of a stored file (a FieldFile or a storage name) that works for `ttl`
    seconds (MEDIA_URL_TTL by default); "" for an empty field.

    `absolute` prefixes local links with SITE_URL (API answers, webhooks, upstreams); pages
    served by this site use relative links, which work under any host name it answers to."""
    name = getattr(file_or_name, "name", file_or_name)
    if not name:
        return ""
    storage = getattr(file_or_name, "storage", None) or default_storage
    url = storage.url(name, expire=ttl or settings.MEDIA_URL_TTL)
    if absolute and url.startswith("/"):
        return settings.SITE_URL.rstrip("/") + url
    return url


def media_name_for_url(url: str) -> tuple[str, bool] | None:
    """(storage name, link still valid) when `url` is one of this site's media URLs, else None.

    A local link counts as ours on SITE_URL's host (or none), or on any host when its
    signature checks out (a link copied from a browser that reached the site another way).
    Validity is checked for local links only: an S3 URL's signature is S3's to check, so it
    reads False and the caller needs another reason (ownership) to read the file."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    name_for_url = getattr(default_storage, "name_for_url", None)
    if name_for_url and (name := name_for_url(url)):
        return name, False
    parts = urlsplit(url)
    prefix = reverse("media_file", args=["k"])[:-1]
    if parts.scheme not in ("", "http", "https") or not parts.path.startswith(prefix) or len(parts.path) == len(prefix):
        return None
    name = unquote(parts.path[len(prefix):])
    query = parse_qs(parts.query)
    try:
        signer.verify(name, expires=(query.get("e") or [None])[0], signature=(query.get("s") or [None])[0])
    except signing.SignatureExpired:
        return name, False
    except signing.BadSignature:
        site = urlsplit(settings.SITE_URL)
        ours = not parts.netloc or (parts.scheme, parts.netloc) == (site.scheme, site.netloc)
        return (name, False) if ours else None
    return name, True
