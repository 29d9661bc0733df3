"""Server-side fetches of URLs we do not control (provider outputs, user media, webhooks).

Every resolved address must be public, every redirect is re-checked, and size and time are
capped. Tests and the demo mode point channels at a loopback fake upstream: its host is
allowed through SAFE_FETCH_ALLOW_HOSTS, never by default."""
from __future__ import annotations

import ipaddress
import socket
import threading
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class FetchRefused(Exception):
    """The URL points somewhere we must not go, or the answer is too big."""


def _allowed_hosts() -> set[str]:
    return set(getattr(settings, "SAFE_FETCH_ALLOW_HOSTS", []))


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise FetchRefused(f"only http(s) URLs are fetched, not {url[:80]!r}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if f"{host}:{port}" in _allowed_hosts() or host in _allowed_hosts():
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchRefused(f"cannot resolve {host}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise FetchRefused(f"{host} resolves to a non-public address")


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _shared_client() -> httpx.Client:
    # One client per process: building one loads the CA bundle (~50 ms), and a shared pool
    # reuses connections to the same output host across downloads. httpx.Client is thread-safe.
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(timeout=TIMEOUT, follow_redirects=False,
                                   limits=httpx.Limits(max_connections=64, max_keepalive_connections=16))
        return _client


def safe_get(url: str, *, max_bytes: int, headers: dict | None = None) -> tuple[bytes, str]:
    """GET with redirects followed by hand (each hop checked). Returns (body, content type)."""
    client = _shared_client()
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url)
        with client.stream("GET", url, headers=headers or {}) as response:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("location", ""))
                continue
            if response.status_code >= 400:
                raise OSError(f"GET {urlsplit(url).hostname} answered {response.status_code}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise FetchRefused(f"{declared} bytes is over the {max_bytes} byte limit")
            chunks, total = [], 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise FetchRefused(f"more than {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("content-type", "")
    raise FetchRefused("too many redirects")
