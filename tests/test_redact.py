"""Credentials in every form a URL can carry them are masked: userinfo with the characters a
pasted password holds unescaped, and secret query or fragment parameters."""
from __future__ import annotations

import pytest

from passage.redact import redact


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("cannot open the Chroma store at http://ann:pa/ss@127.0.0.1:8000: refused",
         "cannot open the Chroma store at http://ann:***@127.0.0.1:8000: refused"),
        ("http://ann:a/b/c@h:8000/api", "http://ann:***@h:8000/api"),
        ("http://u:12/34@h:1/v", "http://u:***@h:1/v"),
        ("http://u:p?w@h/v1", "http://u:***@h/v1"),
        ("http://u:p#w@h", "http://u:***@h"),
        ("'http://u:p/w@h'", "'http://u:***@h'"),
        ("LLM unavailable (cannot reach http://h:8080/v1?api_key=sk-123&x=2)", "LLM unavailable (cannot reach http://h:8080/v1?api_key=***&x=2)"),
        ("https://h/v1?x=1&Token=abc#top", "https://h/v1?x=1&Token=***#top"),
        ("https://h/cb#access_token=abc&state=1", "https://h/cb#access_token=***&state=1"),
        ("https://h/o?X-Amz-Signature=f00&X-Amz-Credential=ak", "https://h/o?X-Amz-Signature=***&X-Amz-Credential=***"),
        ("http://a:b/c@e:9/v1?key=K", "http://a:***@e:9/v1?key=***"),
    ],
)
def test_every_credential_in_a_url_is_masked(text, masked):
    assert redact(text) == masked


@pytest.mark.parametrize("text", [
    "http://h:8000?x@y", "http://[::1]:8000/v1?x=a@b", "http://h/?design=1&page=2", "http://host/v1?mail=a@b",
    "ann@example.org wrote: a=b", "http://[::1]:8000/v1",
])
def test_what_holds_no_credential_is_left_alone(text):
    assert redact(text) == text


def test_redacting_twice_changes_nothing_more():
    once = redact("http://ann:pa/ss@h/v1?api_key=k and http://u:p@h2")
    assert redact(once) == once == "http://ann:***@h/v1?api_key=*** and http://u:***@h2"
