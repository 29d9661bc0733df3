"""S3-compatible storage (AWS S3, MinIO, R2, ...) with private objects and presigned URLs.

Its own module so that the embedded default never imports boto3."""
from __future__ import annotations

import functools
from urllib.parse import quote, unquote, urlsplit

from django.utils.deconstruct import deconstructible
from storages.backends.s3 import S3Storage

from .storage import expiry_step, signer


@deconstructible
class PrivateS3Storage(S3Storage):
    """Any S3-compatible bucket, objects private; url() is a presigned GET.

    Presigning happens in-process (no request to S3). The last URLs are kept per expiry step
    so that repeated renders of one page name the same URL, as on local storage."""

    def url(self, name, parameters=None, expire=None, http_method=None):
        if parameters or http_method:
            return super().url(name, parameters=parameters, expire=expire, http_method=http_method)
        ttl = expire or self.querystring_expire
        step = expiry_step(ttl)
        return self._presigned(name, ttl + step, int(signer.clock() // step))

    @functools.lru_cache(maxsize=8192)  # noqa: B019 - the storage is a process-wide singleton
    def _presigned(self, name: str, expire: int, _window: int) -> str:
        return super().url(name, expire=expire)

    @functools.cached_property
    def _url_base(self) -> tuple[str, str, str]:
        """(scheme, host, path prefix) of this bucket's object URLs, read off a presigned one."""
        parts = urlsplit(super().url("k", expire=60))
        return parts.scheme, parts.netloc, parts.path[: -len(quote(self._normalize_name("k")))]

    def name_for_url(self, url: str) -> str | None:
        """The storage name an URL of this bucket points to, else None."""
        scheme, host, prefix = self._url_base
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != (scheme, host) or not parts.path.startswith(prefix):
            return None
        key = unquote(parts.path[len(prefix):])
        location = self.location.strip("/") + "/" if self.location else ""
        return key[len(location):] if key.startswith(location) and len(key) > len(location) else None
