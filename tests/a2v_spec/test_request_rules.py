"""`a2v_spec.request_rules`: the one set of request rules, each verdict with its code and a message
naming the bad value, all read from the spec (a spec changed here changes the verdicts)."""

from __future__ import annotations

import copy
import doctest
import json
from typing import Any

import pytest

from a2v_spec import ErrorCode, RequestRules, Rule, Spec, bearer_token, load_spec, request_rules
from a2v_spec.request_rules import media_type, oversize_message, query_pairs, read_json_object

GOOD = {"model_id": "eva_a0008", "audio_url": "https://example.com/a.wav"}
J = "application/json"


def good(**fields: Any) -> bytes:
    """The valid generate body with `fields` added or changed, as JSON bytes."""
    return json.dumps({**GOOD, **fields}).encode()


NOT_INT = "invalid parameter 'page': {!r} is not an integer"
ID = "7895cd9a63564367b0c7b06e6837b5c6"


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


@pytest.fixture(scope="module")
def rules(spec: Spec) -> RequestRules:
    return spec.request_rules


def _query(spec: Spec, rules: RequestRules, operation: str, query: str) -> tuple[dict[str, Any], list[str]]:
    found = rules.parameters(spec.operation(operation), query, [])
    assert all(r.rule is Rule.PARAMETER and r.code == ErrorCode.INVALID_PARAMETER for r in found.refusals)
    assert all(r.status == 400 for r in found.refusals)
    return found.query, [r.message for r in found.refusals]


@pytest.mark.parametrize(
    ("query", "values", "messages"),
    [
        ("", {"page": 1, "page_size": 20}, []),
        ("page=3&page_size=100&status=finished", {"page": 3, "page_size": 100, "status": "finished"}, []),
        ("page=03", {"page": 3, "page_size": 20}, []),
        ("page=-1", {"page_size": 20}, ["invalid parameter 'page': -1 is less than the minimum of 1"]),
        ("page=0", {"page_size": 20}, ["invalid parameter 'page': 0 is less than the minimum of 1"]),
        ("page=abc", {"page_size": 20}, [NOT_INT.format("abc")]),
        ("page=5_0", {"page_size": 20}, [NOT_INT.format("5_0")]),
        ("page=%2B5", {"page_size": 20}, [NOT_INT.format("+5")]),
        ("page=%205", {"page_size": 20}, [NOT_INT.format(" 5")]),
        ("page=%D9%A5", {"page_size": 20}, [NOT_INT.format("\u0665")]),
        ("page=1.0", {"page_size": 20}, [NOT_INT.format("1.0")]),
        ("page=", {"page_size": 20}, [NOT_INT.format("")]),
        ("page=" + "9" * 5000, {"page_size": 20}, [NOT_INT.format("9" * 5000)]),
        ("page=1&page=1", {"page_size": 20}, ["invalid parameter 'page': given 2 times"]),
        ("status=FINISHED", {"page": 1, "page_size": 20},
         ["invalid parameter 'status': 'FINISHED' is not one of "
          "['pending', 'in_progressing', 'finished', 'error']"]),
        ("page=0&page_size=0", {}, ["invalid parameter 'page': 0 is less than the minimum of 1",
                                    "invalid parameter 'page_size': 0 is less than the minimum of 1"]),
        ("unknown=1&page=2", {"page": 2, "page_size": 20}, []),
    ],
)  # fmt: skip
def test_query_parameters(
    spec: Spec, rules: RequestRules, query: str, values: dict[str, Any], messages: list[str]
) -> None:
    assert _query(spec, rules, "listVideos", query) == (values, messages)


def test_a_required_query_parameter(spec: Spec, rules: RequestRules) -> None:
    assert _query(spec, rules, "getVideo", f"video_id={ID}") == ({"video_id": ID}, [])
    assert _query(spec, rules, "getVideo", "")[1] == [
        "invalid parameter 'video_id': required query parameter is missing"
    ]


@pytest.mark.parametrize(
    ("headers", "values", "messages"),
    [
        ([], {}, []),
        ([("idempotency-key", "k-1")], {"Idempotency-Key": "k-1"}, []),
        ([("Idempotency-Key", "has space")], {}, ["'has space' does not match"]),
        ([("Idempotency-Key", "")], {}, ["'' should be non-empty"]),
        ([("Idempotency-Key", "a"), ("idempotency-key", "b")], {}, ["given 2 times"]),
    ],
)
def test_header_parameters(
    spec: Spec,
    rules: RequestRules,
    headers: list[tuple[str, str]],
    values: dict[str, str],
    messages: list[str],
) -> None:
    found = rules.parameters(spec.operation("generateVideo"), "", headers)
    assert found.headers == values
    assert len(found.refusals) == len(messages)
    for refusal, words in zip(found.refusals, messages, strict=True):
        assert refusal.message.startswith("invalid parameter 'Idempotency-Key': " + words), refusal.message


def _with_parameter(spec: Spec, schema: dict[str, Any]) -> Spec:
    """The spec with a query parameter `flag` of `schema` added to listVideos."""
    document = copy.deepcopy(spec.document)
    parameters = document["paths"]["/v1/a2v/video.list"]["get"]["parameters"]
    parameters.append({"name": "flag", "in": "query", "required": False, "schema": schema})
    return Spec(document)


@pytest.mark.parametrize(
    ("raw", "value", "message"),
    [
        ("true", True, None),
        ("false", False, None),
        ("True", None, "'True' is not a boolean (true or false)"),
        ("1", None, "'1' is not a boolean (true or false)"),
        ("", None, "'' is not a boolean (true or false)"),
    ],
)
def test_booleans_are_the_json_literals(
    spec: Spec, raw: str, value: bool | None, message: str | None
) -> None:
    """OpenAPI's `form` style writes a boolean as `true` or `false`; nothing else is one."""
    changed = _with_parameter(spec, {"type": "boolean", "default": False})
    found = changed.request_rules.parameters(changed.operation("listVideos"), f"flag={raw}", [])
    assert found.query.get("flag") == value
    assert [r.message for r in found.refusals] == (
        [f"invalid parameter 'flag': {message}"] if message else []
    )
    assert changed.request_rules.parameters(changed.operation("listVideos"), "", []).query["flag"] is False


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1.5", 1.5),
        ("-2", -2.0),
        ("1e3", 1000.0),
        ("nan", None),
        ("inf", None),
        ("1e999", None),
        ("+1", None),
    ],
)
def test_numbers_are_finite_json_numbers(spec: Spec, raw: str, value: float | None) -> None:
    changed = _with_parameter(spec, {"type": "number"})
    found = changed.request_rules.parameters(changed.operation("listVideos"), f"flag={raw}", [])
    assert found.query.get("flag") == value
    assert bool(found.refusals) is (value is None)


def _body(rules: RequestRules, spec: Spec, raw: bytes, media: str | None = "application/json") -> Any:
    return rules.body(spec.operation("generateVideo"), media, raw)


@pytest.mark.parametrize(
    ("raw", "media", "rule", "words"),
    [
        (good(), J, None, ""),
        (good(), "Application/JSON ; charset=UTF-8", None, ""),
        (b"\xef\xbb\xbf" + good(), J, None, ""),
        (good(x={"y": [1, None]}), J, None, ""),
        (good(), "application/vnd.a2v+json", Rule.CONTENT_TYPE,
         "Content-Type must be application/json, got 'application/vnd.a2v+json'"),
        (good(), None, Rule.CONTENT_TYPE, "Content-Type must be application/json, got 'none'"),
        (b"", None, Rule.CONTENT_TYPE, "Content-Type must be application/json, got no body"),
        (b"", J, Rule.MALFORMED, "request body is not valid JSON: Expecting value"),
        (b"{", J, Rule.MALFORMED, "request body is not valid JSON: Expecting"),
        (b"[1]", J, Rule.MALFORMED, "request body must be a JSON object, got list"),
        (b"null", J, Rule.MALFORMED, "request body must be a JSON object, got NoneType"),
        (b'{"a": 1, "a": 1}', J, Rule.MALFORMED, "the name 'a' is given twice in one object"),
        (b'{"a": {"b": 1, "b": 2}}', J, Rule.MALFORMED, "the name 'b' is given twice"),
        (b'{"a": NaN}', J, Rule.MALFORMED, "NaN is not a JSON value"),
        (b'{"a": -Infinity}', J, Rule.MALFORMED, "-Infinity is not a JSON value"),
        (good().decode().encode("utf-16"), J, Rule.MALFORMED, "it is not UTF-8 (byte 0xff at 0)"),
        (b'{"a": "\xe9"}', J, Rule.MALFORMED, "it is not UTF-8 (byte 0xe9 at 7)"),
        (b"[" * 30_000 + b"]" * 30_000, J, Rule.MALFORMED, "nests too deeply"),
        (b'{"model_id": "eva_a0008"}', J, Rule.PARAMETER,
         "invalid parameter 'audio_url': is required but missing"),
        (good(model_id=5), J, Rule.PARAMETER, "invalid parameter 'model_id': 5 is not of type 'string'"),
        (good(audio_url="ftp://x.test/a.wav"), J, Rule.PARAMETER,
         "invalid parameter 'audio_url': 'ftp://x.test/a.wav' is not an http or https URL"),
        (good(callback_url="https://x.test/\n"), J, Rule.PARAMETER,
         "invalid parameter 'callback_url': 'https://x.test/\\n' holds '\\n' at 15; only printable ASCII is "
         "allowed (percent-encode anything else)"),
        (good(x=["\ud800"]), J, Rule.PARAMETER, "invalid parameter 'x[0]': contains a lone surrogate"),
        (good(**{"\udc00": 1}), J, Rule.PARAMETER, "invalid parameter '\\udc00': contains a lone surrogate"),
        (b"x" * 65537, J, Rule.SIZE, "request body is 65537 bytes; the limit is 65536"),
    ],
)  # fmt: skip
def test_body(
    spec: Spec, rules: RequestRules, raw: bytes, media: str | None, rule: Rule | None, words: str
) -> None:
    found = _body(rules, spec, raw, media)
    if rule is None:
        assert found.refusal is None
        assert found.value == json.loads(raw.removeprefix(b"\xef\xbb\xbf"))
        return
    assert found.value is None
    assert found.refusal is not None
    assert (found.refusal.rule, found.refusal.code) == (rule, rule.code)
    assert found.refusal.status == spec.errors[rule.code].http_status
    assert words in found.refusal.message, found.refusal.message
    found.refusal.message.encode("utf-8")  # a message can always be sent


def test_the_size_counts_the_whole_body_when_only_its_start_was_kept(spec: Spec, rules: RequestRules) -> None:
    found = rules.body(spec.operation("generateVideo"), "application/json", b"{", size=70_000)
    assert found.refusal is not None
    assert found.refusal.message == oversize_message(70_000, 65536)
    assert oversize_message(None, 10) == "request body is larger than the limit of 10 bytes"


def test_a_server_may_lower_the_limit(spec: Spec) -> None:
    small = spec.request_rules.with_body_limit(10)
    found = small.body(spec.operation("login"), "application/json", b'{"username": "a", "password": "b"}')
    assert found.refusal is not None
    assert found.refusal.rule is Rule.SIZE
    assert small.oversize(10) is None


def test_media_types_and_limits_come_from_the_spec(spec: Spec) -> None:
    """Change the spec and the verdicts follow: nothing of it is copied into the rules."""
    document = copy.deepcopy(spec.document)
    body = document["paths"]["/v1/auth/account.login"]["post"]["requestBody"]
    body["content"]["application/merge-patch+json"] = body["content"]["application/json"]
    body["required"] = False
    document["x-a2v-limits"]["max_request_bytes"] = 100
    changed_spec = Spec(document)
    changed = changed_spec.request_rules
    login = changed_spec.operation("login")
    raw = b'{"username": "a", "password": "b"}'
    assert changed.body(login, "application/merge-patch+json", raw).value == {
        "username": "a",
        "password": "b",
    }
    refusal = changed.body(login, "text/plain", raw).refusal
    assert refusal is not None
    assert (
        refusal.message
        == "Content-Type must be application/json or application/merge-patch+json, got 'text/plain'"
    )
    assert changed.body(login, None, b"") == request_rules.Body()  # an optional body may be absent
    assert changed.oversize(101) is not None


def test_an_operation_without_a_body_has_no_body_rules(spec: Spec, rules: RequestRules) -> None:
    assert rules.body(spec.operation("getVideo"), "text/plain", b"anything") == request_rules.Body()


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer tok", "tok"),
        ("bearer tok", "tok"),
        ("BEARER  tok ", "tok"),
        ("  Bearer tok", "tok"),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer a b", None),
        ("Basic dG9rOg==", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(spec: Spec, rules: RequestRules, header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
    refusal = rules.auth(spec.operation("listCharacters"), header)
    assert (refusal is None) is (token is not None)
    if refusal is not None:
        assert (refusal.code, refusal.status) == (ErrorCode.UNAUTHORIZED, 401)
    assert rules.auth(spec.operation("ping"), header) is None


def test_reading_helpers() -> None:
    assert query_pairs(b"a=1&b=&a=%C3%A9&c=x+y") == [("a", "1"), ("b", ""), ("a", "\u00e9"), ("c", "x y")]
    assert query_pairs("a=1;b=2") == [("a", "1;b=2")]
    assert media_type(" Application/JSON; charset=utf-8") == "application/json"
    assert media_type(None) == ""
    assert read_json_object(b'{"a": [1.5, true, null]}') == {"a": [1.5, True, None]}
    assert read_json_object(b"1e999") == "request body must be a JSON object, got float"


def test_the_module_examples_run() -> None:
    failures, tried = doctest.testmod(request_rules)
    assert tried > 0
    assert failures == 0
