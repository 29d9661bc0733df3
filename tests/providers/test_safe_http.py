"""Server-side fetches: only public addresses, the checked address is the one connected to,
redirects re-checked, sizes capped. The transport is mocked here (unit level): real HTTP
through safe_get is covered by every adapter test that downloads from the fake upstream."""
import socket
import threading

import httpx
import pytest

from apps.providers import safe_http
from apps.providers.safe_http import FetchRefused, check_url, safe_get


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x", "http://10.0.0.5/x", "http://192.168.1.1/x", "http://169.254.169.254/latest/meta-data",
    "http://[::1]/x", "http://0.0.0.0/x", "http://224.0.0.1/x",
])
def test_non_public_addresses_are_refused(url):
    with pytest.raises(FetchRefused, match="non-public"):
        check_url(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "http:///nohost"])
def test_only_http_urls_are_fetched(url):
    with pytest.raises(FetchRefused, match="only http"):
        check_url(url)


def resolver(monkeypatch, answers):
    """getaddrinfo answering from `answers` (one list of addresses per call), counting calls."""
    calls = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host.replace(".", "").isdigit() or ":" in host:  # an address literal resolves to itself
            addresses = [host]
        else:
            addresses = answers[min(len(calls), len(answers) - 1)]
        calls.append(host)
        family = socket.AF_INET6 if ":" in addresses[0] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    monkeypatch.setattr(safe_http.socket, "getaddrinfo", fake_getaddrinfo)
    return calls


def transport(monkeypatch, respond):
    seen = []

    def handler(request):
        seen.append(request)
        return respond(request)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    monkeypatch.setattr(safe_http, "_client_for", lambda url: client)
    return seen


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(monkeypatch):
    # DNS rebinding: a public answer for the check, loopback for anyone who asks again.
    calls = resolver(monkeypatch, [["93.184.216.34"], ["127.0.0.1"]])
    seen = transport(monkeypatch, lambda request: httpx.Response(200, content=b"png", headers={"content-type": "image/png"}))
    body, mime = safe_get("https://cdn.example.com/out/1.png?sig=abc", max_bytes=1000)
    assert (body, mime) == (b"png", "image/png")
    assert len(calls) == 1
    request = seen[0]
    assert request.url.host == "93.184.216.34" and request.url.path == "/out/1.png" and request.url.query == b"sig=abc"
    assert request.headers["host"] == "cdn.example.com"
    assert request.extensions["sni_hostname"] == "cdn.example.com"  # TLS is verified for the name


def test_ipv6_answers_and_explicit_ports_are_pinned_too(monkeypatch):
    resolver(monkeypatch, [["2606:4700::1111"]])
    seen = transport(monkeypatch, lambda request: httpx.Response(200, content=b"ok"))
    safe_get("http://media.example.com:8080/a.mp4", max_bytes=10)
    assert seen[0].url.host == "2606:4700::1111" and seen[0].url.port == 8080
    assert seen[0].headers["host"] == "media.example.com:8080"
    assert "sni_hostname" not in seen[0].extensions


def test_one_private_answer_among_public_ones_refuses(monkeypatch):
    resolver(monkeypatch, [["93.184.216.34", "10.1.2.3"]])
    seen = transport(monkeypatch, lambda request: httpx.Response(200))
    with pytest.raises(FetchRefused, match="non-public"):
        safe_get("https://cdn.example.com/x", max_bytes=10)
    assert seen == []


def test_a_redirect_to_a_private_address_is_refused_before_it_is_followed(monkeypatch):
    resolver(monkeypatch, [["93.184.216.34"]])
    seen = transport(monkeypatch, lambda request: httpx.Response(302, headers={"location": "http://169.254.169.254/latest"}))
    with pytest.raises(FetchRefused, match="non-public"):
        safe_get("https://cdn.example.com/x", max_bytes=10)
    assert len(seen) == 1


def test_bodies_over_the_cap_are_refused_declared_or_not(monkeypatch):
    resolver(monkeypatch, [["93.184.216.34"]])
    transport(monkeypatch, lambda request: httpx.Response(200, content=b"x" * 100))
    with pytest.raises(FetchRefused, match="limit"):
        safe_get("https://cdn.example.com/declared", max_bytes=10)
    transport(monkeypatch, lambda request: httpx.Response(200, stream=httpx.ByteStream(b"x" * 100)))
    with pytest.raises(FetchRefused, match="more than"):
        safe_get("https://cdn.example.com/streamed", max_bytes=10)


def test_clients_are_kept_per_host_name(monkeypatch):
    safe_http._clients.clear()
    first = safe_http._client_for("https://a.example.com/1")
    assert safe_http._client_for("https://a.example.com/2") is first
    assert safe_http._client_for("https://b.example.com/1") is not first


# ---- the IANA special-purpose registries, embedded IPv4 unwrapped ----------------------------
# One address from every entry of iana-ipv4-special-registry and iana-ipv6-special-registry
# (plus multicast, IPv4-compatible and site-local), written out here rather than read from
# safe_http, so a range missing there fails here.
SPECIAL_ADDRESSES = [
    "0.1.2.3", "10.9.8.7", "100.64.0.1", "100.127.255.254", "127.0.0.1", "169.254.169.254", "172.16.0.1",
    "172.31.255.255", "192.0.0.1", "192.0.0.9", "192.0.0.10", "192.0.0.170", "192.0.2.1", "192.31.196.1",
    "192.52.193.1", "192.88.99.1", "192.168.0.1", "192.175.48.1", "198.18.0.1", "198.19.255.1", "198.51.100.1",
    "203.0.113.1", "240.0.0.1", "255.255.255.255", "224.0.0.1", "239.255.255.250",
    "::", "::1", "::ffff:127.0.0.1", "::ffff:93.184.216.34", "::127.0.0.1", "::10.0.0.1", "::93.184.216.34",
    "64:ff9b::127.0.0.1", "64:ff9b::169.254.169.254", "64:ff9b::93.184.216.34", "64:ff9b:1::a00:1",
    "100::1", "100:0:0:1::1", "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:1::1", "2001:1::2",
    "2001:1::3", "2001:2::1", "2001:3::1", "2001:4:112::1", "2001:10::1", "2001:20::1", "2001:30::1",
    "2001:db8::1", "2002:7f00:1::1", "2002:5db8:d822::1", "2620:4f:8000::1", "3fff::1", "5f00::1", "fc00::1",
    "fd12:3456::1", "fe80::1", "fec0::1", "feff::1", "ff02::1", "ff0e::1", "4000::1",
]


@pytest.mark.parametrize("address", SPECIAL_ADDRESSES)
def test_every_special_purpose_address_is_refused(address):
    literal = f"[{address}]" if ":" in address else address
    with pytest.raises(FetchRefused, match="non-public"):
        check_url(f"http://{literal}/x")


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "2002:a00:1::1", "::127.0.0.1", "fec0::1", "::ffff:a9fe:a9fe"])
def test_a_name_resolving_to_a_translated_or_deprecated_address_is_refused(monkeypatch, address):
    resolver(monkeypatch, [[address]])
    seen = transport(monkeypatch, lambda request: httpx.Response(200, content=b"x"))
    with pytest.raises(FetchRefused, match="non-public"):
        safe_get("https://cdn.example.com/x", max_bytes=10)
    assert seen == []


def test_the_refusal_names_the_embedded_ipv4_address():
    with pytest.raises(FetchRefused, match=r"64:ff9b::/96, carrying 127\.0\.0\.1"):
        check_url("http://[64:ff9b::7f00:1]/x")


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "2a00:1450:4001::200e"])
def test_public_addresses_pass(address):
    literal = f"[{address}]" if ":" in address else address
    check_url(f"http://{literal}/x")


# ---- total deadline and minimum rate, against a real loopback server ------------------------
class DripServer:
    """Answers every GET with headers at once (or not at all), then one body byte per `gap`
    seconds for far longer than any test waits, until the client goes away."""

    def __init__(self, *, gap: float = 0.05, send_headers: bool = True, body_bytes: int = 2000):
        self.gap, self.send_headers, self.body_bytes = gap, send_headers, body_bytes
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn):
        with conn:
            conn.recv(65536)
            try:
                if self.send_headers:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n"
                                 b"Content-Length: %d\r\n\r\n" % self.body_bytes)
                for _ in range(self.body_bytes):
                    if self.stop.wait(self.gap):
                        return
                    if self.send_headers:
                        conn.sendall(b"x")
            except OSError:
                return  # the client hung up: what the tests want

    def close(self):
        self.stop.set()
        self.listener.close()


@pytest.fixture
def drip(settings):
    servers = []

    def start(**kwargs):
        server = DripServer(**kwargs)
        servers.append(server)
        settings.SAFE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{server.port}"]
        return f"http://127.0.0.1:{server.port}/slow.png"

    yield start
    for server in servers:
        server.close()


def test_a_slow_drip_is_cut_off_at_the_total_deadline(monkeypatch, drip):
    # 2,000 bytes at 20 bytes/s would take 100 s; the deadline is half a second. Every read
    # arrives well inside the per-read timeout, which is what let the old fetcher wait forever.
    url = drip(gap=0.05)
    monkeypatch.setattr(safe_http, "DEADLINE", 0.5)
    monkeypatch.setattr(safe_http, "MIN_RATE", 0)
    with pytest.raises(safe_http.FetchTooSlow, match="deadline"):
        safe_get(url, max_bytes=10_000)


def test_a_server_that_never_answers_is_cut_off_at_the_deadline(monkeypatch, drip):
    url = drip(send_headers=False)
    monkeypatch.setattr(safe_http, "DEADLINE", 0.5)
    with pytest.raises(safe_http.FetchTooSlow, match="deadline"):
        safe_get(url, max_bytes=10_000)


def test_a_slow_drip_is_cut_off_by_the_minimum_rate(monkeypatch, drip):
    url = drip(gap=0.05)
    monkeypatch.setattr(safe_http, "RATE_GRACE", 0.3)
    monkeypatch.setattr(safe_http, "MIN_RATE", 10_000)  # bytes/s; the server sends at most 20
    with pytest.raises(safe_http.FetchTooSlow, match="minimum rate"):
        safe_get(url, max_bytes=10_000)


def test_callers_can_set_a_shorter_deadline(drip):
    url = drip(gap=0.05)
    with pytest.raises(safe_http.FetchTooSlow, match="deadline"):
        safe_get(url, max_bytes=10_000, deadline=0.3, min_rate=0)
