"""Server-side fetches: only public addresses, the checked address is the one connected to,
redirects re-checked, sizes capped. The transport is mocked here (unit level): real HTTP
through safe_get is covered by every adapter test that downloads from the fake upstream."""
import socket

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
