"""The mock and the proxy judge a request by the same rules (`a2v_spec.RequestRules`), so they agree.

Each row is one malformed or edge-case request sent through the proxy to the mock on 127.0.0.1. The
mock's answer is the row's code; the proxy, judging the exchange, must then flag the client
(A2V-CLIENT-REQUEST-SCHEMA) exactly when the mock refused the request by a request rule, with the same
message the mock answered, and must find nothing wrong with the mock's answer (with one problem it
demands exactly that code). A 4xx that is about the world, not the request (an unknown `video_id` or
`model_id`), is no client violation.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from a2v_spec import ErrorCode, load_spec
from contract_tests.proxy import Proxy, ProxyConfig, create_app
from contract_tests.requirement_ids import Req
from mock_server.testing import run_server
from tests.contract_tests.proxy.conftest import serve

if TYPE_CHECKING:
    from collections.abc import Iterator

GEN = "/v1/a2v/video.generate"
GET = "/v1/a2v/video.get"
LIST = "/v1/a2v/video.list"
LOGIN = "/v1/auth/account.login"
JSON = ("Content-Type", "application/json")
#: The task of an accepted generate fails at once without fetching its audio (the mock's test control).
FATE = ("Prefer", "outcome=error, error_code=10001, duration=0.2")
AUDIO = "http://127.0.0.1:9/a.wav"
OK = {"model_id": "eva_a0008", "audio_url": AUDIO}
ID = "7895cd9a63564367b0c7b06e6837b5c6"
#: Codes a request rule (or the route) answers: the client broke the spec.
CLIENT_CODES = {1001, 1003, 1004, 1005, 1006, 1007, 1013}


def body(**fields: Any) -> bytes:
    """The valid generate body with `fields` changed (None removes one), as JSON bytes."""
    merged = {**OK, **fields}
    return json.dumps({k: v for k, v in merged.items() if v is not None}).encode()


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    code: int
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    content: bytes | None = None
    #: False: send no Authorization header (the row's `headers` may carry its own).
    token: bool = True


def gen(
    code: int,
    content: bytes | None = None,
    *,
    media: str | None = "application/json",
    key: tuple[str, ...] = (),
    token: bool = True,
) -> Row:
    """A `video.generate` (the valid body unless `content`), with this media type and Idempotency-Keys."""
    headers = ((("Content-Type", media),) if media else ()) + (FATE,)
    headers += tuple(("Idempotency-Key", value) for value in key)
    return Row(
        "POST", GEN, code, headers=headers, content=body() if content is None else content, token=token
    )


def chars(code: int, authorization: str) -> Row:
    """A `character.list` with this Authorization header."""
    return Row(
        "GET", "/v1/a2v/character.list", code, headers=(("Authorization", authorization),), token=False
    )


def login(code: int, content: bytes) -> Row:
    return Row("POST", LOGIN, code, headers=(JSON,), content=content, token=False)


ROWS: dict[str, Row] = {
    # routes
    "ping": Row("GET", "/v1/ping", 0),
    "unknown path": Row("GET", "/v1/a2v/nope", 1007),
    "wrong method": Row("DELETE", GET, 1006, f"video_id={ID}"),
    # the token
    "no token": Row("GET", "/v1/a2v/character.list", 1001, token=False),
    "scheme alone": chars(1001, "Bearer"),
    "two tokens": chars(1001, "Bearer a b"),
    "basic auth": chars(1001, "Basic dG9rOg=="),
    "lowercase scheme": chars(0, "bearer rules-lower"),
    "two spaces": chars(0, "Bearer  rules-spaces"),
    # query parameters
    "list, all parameters": Row("GET", LIST, 0, "page=2&page_size=100&status=finished"),
    "list, unknown parameter": Row("GET", LIST, 0, "foo=bar"),
    "page with a leading zero": Row("GET", LIST, 0, "page=01"),
    "page 0": Row("GET", LIST, 1003, "page=0"),
    "page not a number": Row("GET", LIST, 1003, "page=abc"),
    "page with an underscore": Row("GET", LIST, 1003, "page=5_0"),
    "page with a plus": Row("GET", LIST, 1003, "page=%2B5"),
    "page with a space": Row("GET", LIST, 1003, "page=%205"),
    "page in Arabic-Indic digits": Row("GET", LIST, 1003, "page=%D9%A5"),
    "page blank": Row("GET", LIST, 1003, "page="),
    "page twice": Row("GET", LIST, 1003, "page=1&page=2"),
    "page_size over the maximum": Row("GET", LIST, 1003, "page_size=101"),
    "page_size with 5000 digits": Row("GET", LIST, 1003, "page_size=" + "9" * 5000),
    "status not in the enum": Row("GET", LIST, 1003, "status=done"),
    "status in upper case": Row("GET", LIST, 1003, "status=FINISHED"),
    "video_id missing": Row("GET", GET, 1003),
    "video_id malformed": Row("GET", GET, 1003, "video_id=XYZ"),
    "video_id twice": Row("GET", GET, 1003, f"video_id={ID}&video_id={ID}"),
    "video_id unknown": Row("GET", GET, 20002, f"video_id={ID}"),
    # header parameters
    "Idempotency-Key with a space": gen(1003, key=("has space",)),
    "Idempotency-Key too long": gen(1003, key=("k" * 256,)),
    "Idempotency-Key twice": gen(1003, key=("a", "b")),
    # the body's media type
    "generate": gen(0),
    "charset parameter": gen(0, media="application/json; charset=utf-8"),
    "media type in upper case": gen(0, media="APPLICATION/JSON"),
    "a +json media type": gen(1005, media="application/vnd.a2v+json"),
    "text/plain": gen(1005, media="text/plain"),
    "no Content-Type": gen(1005, media=None),
    "no body at all": gen(1005, b"", media=None),
    # the body's JSON
    "empty JSON body": gen(1004, b""),
    "whitespace": gen(1004, b"  \n"),
    "truncated JSON": gen(1004, b"{"),
    "an array": gen(1004, b"[1]"),
    "a string": gen(1004, b'"eva_a0008"'),
    "a name twice": gen(1004, body()[:-1] + b', "model_id": "other"}'),
    "NaN": gen(1004, body()[:-1] + b', "extra": NaN}'),
    "UTF-16": gen(1004, body().decode().encode("utf-16")),
    "not UTF-8": gen(1004, body()[:-1] + b', "extra": "\xe9"}'),
    "UTF-8 with a BOM": gen(0, b"\xef\xbb\xbf" + body()),
    "nested too deeply": gen(1004, b"[" * 5000 + b"]" * 5000),
    "over 64 KiB": gen(1013, body(extra="x" * 70_000)),
    # the body's schema and the URL rule
    "an unknown field": gen(0, body(extra=[1, {"a": None}])),
    "audio_url missing": gen(1003, body(audio_url=None)),
    "audio_url ftp": gen(1003, body(audio_url="ftp://127.0.0.1/a.wav")),
    "audio_url with a line break": gen(1003, body(audio_url=AUDIO + "\n")),
    "callback_url not a URL": gen(1003, body(callback_url="nope")),
    "callback_url valid": gen(0, body(callback_url="http://127.0.0.1:9/cb")),
    "model_id a number": gen(1003, body(model_id=5)),
    "model_id unknown": gen(20001, body(model_id="eva_x9999")),
    "lone surrogate in a field": gen(1003, body(extra="\ud800")),
    "lone surrogate in a name": login(1003, b'{"username": "a", "password": "b", "\\udc00": 1}'),
    "login without password": login(1003, b'{"username": "a"}'),
    # several problems at once: the mock answers the first, the proxy accepts any 4xx
    "no token and a text body": gen(1001, media="text/plain", token=False),
    "bad key and a bad body": gen(1003, b"{", key=("",)),
}


@dataclass
class Pair:
    proxy_url: str
    proxy: Proxy


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with (
        run_server(render_workers=1) as mock,
        serve(create_app(ProxyConfig(upstream=mock.base_url, fetch_audio=False))) as served,
    ):
        yield Pair(served.base_url, served.app.proxy)


def _send(pair: Pair, row: Row, token: str) -> httpx.Response:
    headers = [("Authorization", f"Bearer {token}")] if row.token else []
    headers += list(row.headers)
    url = f"{pair.proxy_url}{row.path}" + (f"?{row.query}" if row.query else "")
    with httpx.Client(timeout=30) as client:
        return client.send(client.build_request(row.method, url, headers=headers, content=row.content))


def _judged(proxy: Proxy, count: int) -> None:
    """Wait until the proxy has judged `count` exchanges (it judges after the answer has gone out)."""
    deadline = time.monotonic() + 10
    while proxy.judge.exchanges < count:
        assert time.monotonic() < deadline, "the proxy did not judge the exchange"
        time.sleep(0.01)


def test_the_table_is_large_enough() -> None:
    assert len(ROWS) >= 30
    catalog = load_spec().errors
    assert {row.code for row in ROWS.values()} - {0} <= set(catalog)
    assert {row.code for row in ROWS.values()} >= CLIENT_CODES


@pytest.mark.parametrize("name", list(ROWS))
def test_mock_and_proxy_give_the_same_verdict(pair: Pair, name: str) -> None:
    row = ROWS[name]
    judge = pair.proxy.judge
    before, seen = judge.exchanges, len(judge.violations)
    response = _send(pair, row, token=f"rules-{list(ROWS).index(name)}")
    _judged(pair.proxy, before + 1)
    answer = response.json()
    status = 200 if row.code == 0 else load_spec().errors[row.code].http_status
    assert (response.status_code, answer["code"]) == (status, row.code), answer
    found = judge.violations[seen:]
    assert [v for v in found if v.side == "server"] == [], "\n".join(v.text() for v in found)
    flagged = [v for v in found if v.requirement == Req.CLIENT_REQUEST_SCHEMA]
    if row.code not in CLIENT_CODES:
        assert flagged == [], flagged[0].text()
        return
    assert len(flagged) == 1, f"the mock answered {row.code} and the proxy flagged nothing"
    if row.code not in (ErrorCode.NOT_FOUND, ErrorCode.METHOD_NOT_ALLOWED):  # the route has its own words
        said = flagged[0].message
        assert said == answer["message"] or said.startswith(answer["message"] + "; "), said
