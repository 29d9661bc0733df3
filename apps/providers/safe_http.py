"""Server-side fetches of URLs we do not control (provider outputs, user media, webhooks).

Every resolved address must be public, every redirect is re-checked, and size and time are
capped: a total deadline for the whole fetch (redirects included) and a minimum average rate,
so a server dripping a byte at a time cannot hold a worker. Tests and the demo mode point
channels at a loopback fake upstream: its host is allowed through SAFE_FETCH_ALLOW_HOSTS,
never by default."""
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
READ_TIMEOUT = 30.0  # the longest wait for one read
CONNECT_TIMEOUT = 5.0
DEADLINE = 300.0  # seconds for the whole fetch, redirects included
MIN_RATE = 32 * 1024  # bytes per second on average, checked once RATE_GRACE seconds have passed
RATE_GRACE = 10.0
TIMEOUT = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)


class FetchRefused(Exception):
    """The URL points somewhere we must not go, or the answer is too big."""


class FetchTooSlow(FetchRefused):
    """The server did not deliver within the deadline or stayed under the minimum rate. A
    refusal, not a transient error: retrying would let the same server hold a worker again."""


# The IANA special-purpose address registries (iana-ipv4-special-registry and
# iana-ipv6-special-registry), every entry, including the few marked globally reachable
# (anycast and AS112 services): nothing a media or webhook fetch has a reason to reach.
# Python's `is_global` alone lets NAT64, 6to4, IPv4-compatible and site-local addresses through.
SPECIAL_IPV4 = tuple(ipaddress.ip_network(net) for net in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
    "224.0.0.0/4",  # multicast (its own registry)
))
SPECIAL_IPV6 = tuple(ipaddress.ip_network(net) for net in (
    "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64",
    "2001::/23", "2001::/32", "2001:1::1/128", "2001:1::2/128", "2001:1::3/128", "2001:2::/48", "2001:3::/32",
    "2001:4:112::/48", "2001:10::/28", "2001:20::/28", "2001:30::/28", "2001:db8::/32", "2002::/16",
    "2620:4f:8000::/48", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10",
    "::/96",  # IPv4-compatible (deprecated by RFC 4291, still routed to IPv4 by some stacks)
    "fec0::/10",  # site-local (deprecated by RFC 3879)
    "ff00::/8",  # multicast
))
GLOBAL_UNICAST_IPV6 = ipaddress.ip_network("2000::/3")  # all IANA has allocated for unicast
# Ranges whose last 32 bits are an IPv4 address: IPv4-compatible and NAT64 (RFC 6052, /96 form).
_LAST_32_BITS_IPV4 = tuple(ipaddress.ip_network(net) for net in ("::/96", "64:ff9b::/96", "64:ff9b:1::/96"))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv6 one (mapped, compatible, NAT64, 6to4, Teredo)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address (the server's is teredo[0])
    if any(address in network for network in _LAST_32_BITS_IPV4):
        return ipaddress.IPv4Address(address.packed[-4:])
    return None


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a fetch must not connect to `address`, or None when it is a public unicast address.

    An IPv6 address that carries an IPv4 one is refused whatever that IPv4 address is: the
    whole translation range is special-purpose (a NAT64 gateway or 6to4 relay forwards to any
    IPv4 address, private ones included). The embedded address is unwrapped for the message."""
    special = SPECIAL_IPV4 if address.version == 4 else SPECIAL_IPV6
    network = next((net for net in special if address in net), None)
    if network is not None:
        embedded = _embedded_ipv4(address) if address.version == 6 and int(address) > 1 else None
        return f"is in the special-purpose range {network}" + (f", carrying {embedded}" if embedded else "")
    if address.version == 6 and address not in GLOBAL_UNICAST_IPV6:
        return "is outside IPv6 global unicast (2000::/3)"
    if not address.is_global:  # a backstop for ranges Python knows and the lists above miss
        return "is not a global address"
    return None


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
        reason = address_refusal(address)
        if reason is not None:
            raise FetchRefused(f"{host} resolves to a non-public address ({address} {reason})")
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


class _Clock:
    """The fetch's time budget: a total deadline, and a minimum average rate after a grace period."""

    def __init__(self, deadline: float, min_rate: float, grace: float):
        self.start = time.monotonic()
        self.deadline, self.min_rate, self.grace = deadline, min_rate, grace

    def timeout(self) -> httpx.Timeout:
        """Per-operation timeouts that cannot carry one wait past the deadline."""
        remaining = self.deadline - (time.monotonic() - self.start)
        if remaining <= 0:
            raise FetchTooSlow(f"no answer within the {self.deadline:g} s deadline")
        return httpx.Timeout(min(READ_TIMEOUT, remaining), connect=min(CONNECT_TIMEOUT, remaining))

    def check(self, received: int) -> None:
        elapsed = time.monotonic() - self.start
        if elapsed > self.deadline:
            raise FetchTooSlow(f"not complete within the {self.deadline:g} s deadline ({received} bytes received)")
        if self.min_rate and elapsed > self.grace and received < self.min_rate * elapsed:
            raise FetchTooSlow(f"{received / elapsed:.0f} bytes/s is under the minimum rate of {self.min_rate:g}")


def safe_get(url: str, *, max_bytes: int, headers: dict | None = None, deadline: float | None = None,
             min_rate: float | None = None) -> tuple[bytes, str]:
    """GET with redirects followed by hand (each hop checked). Returns (body, content type).

    Raises FetchRefused for an address or size we refuse, FetchTooSlow when the whole fetch
    takes longer than `deadline` seconds or averages under `min_rate` bytes/s (after
    RATE_GRACE seconds), OSError / httpx.HTTPError when the transfer itself fails."""
    clock = _Clock(DEADLINE if deadline is None else deadline, MIN_RATE if min_rate is None else min_rate, RATE_GRACE)
    try:
        return _get(url, max_bytes=max_bytes, headers=headers or {}, clock=clock)
    except httpx.TimeoutException as exc:
        # A read cut short by the deadline-capped timeout is the deadline, not a transient error.
        if time.monotonic() - clock.start >= clock.deadline:
            raise FetchTooSlow(f"not complete within the {clock.deadline:g} s deadline") from exc
        raise


def _get(url: str, *, max_bytes: int, headers: dict, clock: _Clock) -> tuple[bytes, str]:
    for _ in range(MAX_REDIRECTS + 1):
        target, request_headers, extensions = _pinned_request(url, headers)
        with _client_for(url).stream("GET", target, headers=request_headers, extensions=extensions,
                                     timeout=clock.timeout()) as response:
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
                clock.check(total)
            return b"".join(chunks), response.headers.get("content-type", "")
    raise FetchRefused("too many redirects")


# ---- webhook deliveries -------------------------------------------------------------------
def safe_post(url: str, *, content: bytes, headers: dict, deadline: float,
              max_response_bytes: int = 2048) -> tuple[int, bytes]:
    """POST to a public address (checked and pinned like safe_get), redirects not followed (a
    receiver answering 3xx has not taken the message), the whole exchange within `deadline`
    seconds (the fetch clock, without a minimum rate: answers are a few bytes). Returns (status,
    the first `max_response_bytes` of the answer); raises FetchRefused for an address we refuse,
    FetchTooSlow past the deadline, httpx.HTTPError or OSError when the connection fails."""
    clock = _Clock(deadline, 0, RATE_GRACE)
    target, request_headers, extensions = _pinned_request(url, headers)
    try:
        with _client_for(url).stream("POST", target, content=content, headers=request_headers,
                                     extensions=extensions, timeout=clock.timeout()) as response:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= max_response_bytes:
                    break
                clock.check(len(body))
            return response.status_code, body[:max_response_bytes]
    except httpx.TimeoutException as exc:
        raise FetchTooSlow(f"no complete answer within the {deadline:g} s deadline") from exc
