"""`a2v_spec.urls.UrlRule`: the one URL rule, read from the spec's `HttpUrl` schema."""

from __future__ import annotations

import asyncio

import pytest

from a2v_spec import UrlRule, load_spec
from a2v_spec.urls import HTTP_URL_POINTER

BASE = "http://127.0.0.1:9/a.wav"


def test_the_rule_is_the_spec_schema() -> None:
    spec = load_spec()
    schema = spec.at(HTTP_URL_POINTER)
    assert spec.url_rule == UrlRule(schema["pattern"], schema["maxLength"], schema["not"]["pattern"])
    for field in ("audio_url", "callback_url"):
        ref = spec.at("/components/schemas/GenerateRequest/properties")[field]["$ref"]
        assert ref == f"#{HTTP_URL_POINTER}"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (BASE, True),
        ("HTTPS://example.com", True),
        ("http://127.0.0.1/" + "a" * 2020, True),
        (BASE + "\n", False),
        (BASE + "\r\n", False),
        (BASE.replace("a.wav", "a\x1cb.wav"), False),
        (BASE.replace("a.wav", "a\x85b.wav"), False),
        (BASE.replace("a.wav", "a b.wav"), False),
        (BASE.replace("a.wav", "\u00e9.wav"), False),
        ("https://", False),
        ("https:///a.wav", False),
        ("ftp://example.com/a.wav", False),
        ("h" * 2049, False),
        (42, False),
    ],
)
def test_url_rule(value: object, valid: bool) -> None:
    rule = load_spec().url_rule
    assert rule.is_valid(value) is valid
    assert (rule.problem(value) is None) is valid


def test_problems_say_what_is_wrong() -> None:
    rule = load_spec().url_rule
    assert "2049 characters" in (rule.problem("h" * 2049) or "")
    assert "not a string" in (rule.problem(42) or "")
    assert "printable ASCII" in (rule.problem(BASE + "\n") or "")


def test_the_fetcher_refuses_what_the_rule_refuses() -> None:
    """The mock's downloader (also for redirect targets) applies the same rule."""
    from mock_server.errors import TaskFailure
    from mock_server.tasks.audio_fetch import AudioFetcher
    from mock_server.tasks.egress import HostPolicy

    spec = load_spec()
    policy = HostPolicy.build(open_mode=True, allowed=None, listen_host="127.0.0.1", port=0)
    fetcher = AudioFetcher(spec.limits, policy, url_rule=spec.url_rule)
    try:
        fetcher._check_url(BASE)
        with pytest.raises(TaskFailure) as caught:
            fetcher._check_url(BASE.replace("a.wav", "a\x85b.wav"))
        assert caught.value.code == 10002
    finally:
        asyncio.run(fetcher.aclose())
