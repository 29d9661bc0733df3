"""Server-side fetches of URLs we do not control (provider outputs, user media, webhooks).

Every resolved address must be public, every redirect is re-checked, and size and time are
capped. Tests and the demo mode point channels at a loopback fake upstream: its host is
allowed through SAFE_FETCH_ALLOW_HOSTS, never by default."""
from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections import OrderedDict
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
    """Refuse URLs that are not http(s) or whose host resolves to a non-public address."""
    _pinned_address(url)


def _pinned_address(url: str) -> str | None:
    """The checked address to connect to for `url`, or None for an allow-listed host.

    Every address the name resolves to must be public. The connection then goes to the
    checked address itself: letting the HTTP client resolve the name again would open a
    DNS-rebinding window (a public answer for the check, a private one for the connect)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise FetchRefused(f"only http(s) URLs are fetched, not {url[:80]!r}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if f"{host}:{port}" in _allowed_hosts() or host in _allowed_hosts():
        return None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchRefused(f"cannot resolve {host}") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise FetchRefused(f"cannot resolve {host}")
    for address in addresses:
        if not address.is_global or address.is_multicast:
            raise FetchRefused(f"{host} resolves to a non-public address")
    return str(addresses[0])


def _pinned_request(url: str, headers: dict) -> tuple[str, dict, dict]:
    """(URL to send, headers, request extensions) that reach the checked address of `url`,
    with the original name in the Host header and in TLS (SNI and certificate check)."""
    address = _pinned_address(url)
    if address is None:
        return url, headers, {}
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host_header = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return parts._replace(netloc=netloc).geturl(), {**headers, "Host": host_header}, extensions


# One client per host name, sharing one TLS context (loading the CA bundle takes ~50 ms).
# Per name because connections go to pinned addresses: a pooled connection to an address
# must only carry requests for the name its TLS session was verified for.
MAX_CLIENTS = 64
_clients: OrderedDict[str, httpx.Client] = OrderedDict()
_client_lock = threading.Lock()
_tls: ssl.SSLContext | None = None


def _client_for(url: str) -> httpx.Client:
    global _tls
    host = urlsplit(url).hostname or ""
    with _client_lock:
        client = _clients.get(host)
        if client is not None:
            _clients.move_to_end(host)
            return client
        if _tls is None:
            _tls = httpx.create_ssl_context()
        client = httpx.Client(timeout=TIMEOUT, follow_redirects=False, verify=_tls,
                              limits=httpx.Limits(max_connections=32, max_keepalive_connections=8))
        _clients[host] = client
        if len(_clients) > MAX_CLIENTS:
            _clients.popitem(last=False)  # dropped, not closed: another thread may be mid-download
        return client


def safe_get(url: str, *, max_bytes: int, headers: dict | None = None) -> tuple[bytes, str]:
    """GET with redirects followed by hand (each hop checked). Returns (body, content type)."""
    for _ in range(MAX_REDIRECTS + 1):
        target, request_headers, extensions = _pinned_request(url, headers or {})
        with _client_for(url).stream("GET", target, headers=request_headers, extensions=extensions) as response:
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


# ---- webhook deliveries -------------------------------------------------------------------
class DeliveryTooSlow(FetchRefused):
    """The receiver did not answer within the delivery's deadline."""


def safe_post(url: str, *, content: bytes, headers: dict, deadline: float,
              max_response_bytes: int = 2048) -> tuple[int, bytes]:
    """POST to a public address (checked and pinned like safe_get), redirects not followed (a
    receiver answering 3xx has not taken the message), the whole exchange within `deadline`
    seconds. Returns (status, the first `max_response_bytes` of the answer); raises
    FetchRefused for an address we refuse, DeliveryTooSlow past the deadline, httpx.HTTPError
    or OSError when the connection fails."""
    start = time.monotonic()

    def remaining() -> float:
        left = deadline - (time.monotonic() - start)
        if left <= 0:
            raise DeliveryTooSlow(f"no complete answer within {deadline:g} s")
        return left

    target, request_headers, extensions = _pinned_request(url, headers)
    left = remaining()
    # Each wait is capped by what is left, so no single read or connect outlives the deadline.
    timeout = httpx.Timeout(left, connect=min(5.0, left))
    try:
        with _client_for(url).stream("POST", target, content=content, headers=request_headers,
                                     extensions=extensions, timeout=timeout) as response:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= max_response_bytes:
                    break
                remaining()
            return response.status_code, body[:max_response_bytes]
    except httpx.TimeoutException as exc:
        raise DeliveryTooSlow(f"no complete answer within {deadline:g} s") from exc
