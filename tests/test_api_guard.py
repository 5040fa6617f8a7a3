"""The API's guard, its pure parts with exact values: host names, the loopback default, and
which writes count as sent by another web site."""
from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from app.api.security import allowed_hosts, cross_site, host_allowed, host_name


@pytest.mark.parametrize(("header", "name"), [
    ("127.0.0.1:8765", "127.0.0.1"), ("LocalHost", "localhost"), ("[::1]:8765", "::1"), ("[::1]", "::1"),
    ("api.example.org:443", "api.example.org"), ("", ""),
])
def test_host_name(header, name):
    assert host_name(header) == name


def test_allowed_hosts_default_to_loopback_names_on_loopback_and_any_beyond():
    assert allowed_hosts([], "127.0.0.1") == allowed_hosts([], "localhost") == ("localhost", "127.0.0.1", "::1")
    assert allowed_hosts([], "0.0.0.0") == ("*",)
    assert allowed_hosts(["passage.example.org"], "127.0.0.1") == ("passage.example.org",)


@pytest.mark.parametrize(("name", "patterns", "allowed"), [
    ("localhost", ("localhost", "127.0.0.1", "::1"), True),
    ("attacker.example", ("localhost", "127.0.0.1", "::1"), False),  # a rebound DNS name pointing at 127.0.0.1
    ("api.example.org", ("*.example.org",), True),
    ("example.org", ("*.example.org",), False),
    ("evil-example.org", ("*.example.org",), False),
    ("", ("localhost",), False),
    ("anything", ("*",), True),
])
def test_host_allowed(name, patterns, allowed):
    assert host_allowed(name, patterns) is allowed


HOST = {"host": "127.0.0.1:8765"}


@pytest.mark.parametrize(("method", "headers", "sender"), [
    ("POST", {}, ""),  # curl, SDKs: no browser headers
    ("POST", {"sec-fetch-site": "same-origin", "origin": "http://127.0.0.1:8765"}, ""),
    ("DELETE", {"sec-fetch-site": "none"}, ""),  # typed into the address bar, a bookmark
    ("POST", {"sec-fetch-site": "cross-site", "origin": "https://evil.example"}, "a web page from https://evil.example"),
    ("POST", {"sec-fetch-site": "same-site", "origin": "http://127.0.0.1:5555"}, "a web page from http://127.0.0.1:5555"),
    ("DELETE", {"sec-fetch-site": "same-site"}, "a web page on another origin (Sec-Fetch-Site: same-site)"),
    ("POST", {"origin": "http://127.0.0.1:8765"}, ""),  # a browser without Sec-Fetch-Site, same origin
    ("POST", {"origin": "http://localhost:5555"}, "a web page from http://localhost:5555"),
    ("POST", {"origin": "null"}, "a web page from null"),  # a sandboxed frame or a file:// page
    ("GET", {"sec-fetch-site": "cross-site", "origin": "https://evil.example"}, ""),  # reads: CORS keeps the reply from the page
])
def test_cross_site(method, headers, sender):
    assert cross_site(method, Headers({**HOST, **headers})) == sender
