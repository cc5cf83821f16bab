"""openapi-core, a validator nobody here wrote, judges real exchanges with the mock against the spec.

Every operation is exercised on its success and error paths (forced answers included), each request
and response is validated independently of the project's own validator, and a response whose code
does not belong to its HTTP status is shown to be refused.
"""

from __future__ import annotations

import copy
import json
import time
from typing import TYPE_CHECKING, Any

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.exceptions import OpenAPIError

from a2v_spec import load_spec

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.interop.conftest import Live


@pytest.fixture(scope="module")
def openapi(live: Live) -> OpenAPI:
    """The committed spec, with the live mock as its only server (the document is not changed)."""
    document = copy.deepcopy(load_spec().document)
    document["servers"] = [{"url": live.base_url}]
    return OpenAPI.from_dict(document)


class Exchanges:
    """Sends requests with `requests` and keeps every (request, response) pair."""

    def __init__(self, live: Live, token: str) -> None:
        self.live = live
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.sent: list[tuple[bool, requests.Response]] = []

    def send(self, method: str, path: str, *, valid: bool = True, **options: Any) -> requests.Response:
        """`valid`: whether the request itself conforms to the spec (negative requests do not)."""
        response = self.session.request(method, self.live.base_url + path, timeout=30, **options)
        self.sent.append((valid, response))
        return response

    def close(self) -> None:
        self.session.close()


@pytest.fixture(scope="module")
def exchanges(live: Live) -> Iterator[list[tuple[bool, requests.Response]]]:
    ex = Exchanges(live, "openapi-core")
    anonymous = requests.Session()
    try:
        _run(ex, anonymous, live)
        yield ex.sent
    finally:
        ex.close()
        anonymous.close()


def _run(ex: Exchanges, anonymous: requests.Session, live: Live) -> None:
    gen = "/v1/a2v/video.generate"
    body = {"model_id": "eva_a0008", "audio_url": live.audio_url}
    for _ in range(3):
        ex.send("GET", "/v1/ping")
    ex.send("POST", "/v1/auth/account.login", json={"username": "dev@example.com", "password": "pw"})
    ex.send("POST", "/v1/auth/account.login", valid=False, json={"username": "dev@example.com"})
    ex.send("POST", "/v1/auth/account.login", valid=False, data=b"{not json", headers=_json_type())
    ex.send(
        "POST", "/v1/auth/account.login", valid=False, data=b"user=x", headers={"Content-Type": "text/plain"}
    )
    ex.send("POST", "/v1/auth/account.login", valid=False, data=b"x" * 70_000, headers=_json_type())
    ex.send("GET", "/v1/a2v/character.list")
    ex.send("GET", "/v1/a2v/character.list", headers={"Prefer": "status=429, code=1009"})
    ex.send("GET", "/v1/a2v/character.list", headers={"Prefer": "status=500, code=1500"})
    ex.sent.append((False, anonymous.get(live.base_url + "/v1/a2v/character.list", timeout=30)))

    ids = [ex.send("POST", gen, json=body, headers={"Prefer": "duration=1"}).json()["data"]["video_id"]]
    ids.append(
        ex.send("POST", gen, json=body, headers={"Prefer": "outcome=error, error_code=10004"}).json()["data"][
            "video_id"
        ]
    )
    ex.send("POST", gen, json=body, headers={"Idempotency-Key": "core-1"})
    ex.send("POST", gen, json=body, headers={"Idempotency-Key": "core-1"})
    ex.send("POST", gen, json={**body, "callback_url": live.audio_url}, headers={"Idempotency-Key": "core-1"})
    ex.send("POST", gen, json={"model_id": "eva_x9999", "audio_url": live.audio_url})
    ex.send("POST", gen, valid=False, json={"model_id": "eva_a0008"})
    ex.send("POST", gen, valid=False, json={"model_id": "eva_a0008", "audio_url": "ftp://example.com/a.wav"})
    ex.send("POST", gen, valid=False, json={"model_id": "eva_a0008", "audio_url": live.audio_url + "\n"})
    ex.send("POST", gen, valid=False, data=b"[]", headers=_json_type())
    ex.send("POST", gen, valid=False, data=b"model_id=eva", headers={"Content-Type": "text/plain"})
    ex.send("POST", gen, json=body, headers={"Prefer": "status=503, code=1010"})
    ex.sent.append((False, anonymous.post(live.base_url + gen, json=body, timeout=30)))

    for video_id in ids:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = ex.send("GET", "/v1/a2v/video.get", params={"video_id": video_id}).json()["data"][
                "status"
            ]
            if status in ("finished", "error"):
                break
            time.sleep(0.1)
    for video_id in ids:  # terminal reads: freshly signed URLs each time
        for _ in range(3):
            ex.send("GET", "/v1/a2v/video.get", params={"video_id": video_id})
    ex.send("GET", "/v1/a2v/video.get", params={"video_id": "0" * 32})
    ex.send("GET", "/v1/a2v/video.get", valid=False, params={"video_id": "not-an-id"})
    ex.send("GET", "/v1/a2v/video.get", valid=False)
    ex.sent.append(
        (False, anonymous.get(live.base_url + "/v1/a2v/video.get", params={"video_id": ids[0]}, timeout=30))
    )

    ex.send("GET", "/v1/a2v/video.list")
    for status in ("pending", "in_progressing", "finished", "error"):
        ex.send("GET", "/v1/a2v/video.list", params={"status": status, "page_size": 5})
    for page in (1, 2, 3, 50):
        ex.send("GET", "/v1/a2v/video.list", params={"page": page, "page_size": 1})
    ex.send("GET", "/v1/a2v/video.list", valid=False, params={"page": 0})
    ex.send("GET", "/v1/a2v/video.list", valid=False, params={"page_size": 101})
    ex.send("GET", "/v1/a2v/video.list", valid=False, params={"status": "done"})


def _json_type() -> dict[str, str]:
    return {"Content-Type": "application/json"}


def test_at_least_fifty_exchanges_cover_every_operation_on_both_paths(
    exchanges: list[tuple[bool, requests.Response]],
) -> None:
    assert len(exchanges) >= 50
    spec = load_spec()
    seen: dict[str, set[bool]] = {}
    for _, response in exchanges:
        url = response.request.url
        assert url is not None
        path = requests.utils.urlparse(url).path
        op = spec.find(response.request.method or "", path)
        assert op is not None, path
        seen.setdefault(op.operation_id, set()).add(response.status_code < 400)
    assert seen == {op_id: {True, False} for op_id in spec.operations} | {"ping": {True}}


def test_every_exchange_validates(openapi: OpenAPI, exchanges: list[tuple[bool, requests.Response]]) -> None:
    statuses: set[int] = set()
    for valid, response in exchanges:
        request = RequestsOpenAPIRequest(response.request)
        if valid:
            openapi.validate_request(request)
        openapi.validate_response(request, RequestsOpenAPIResponse(response))
        statuses.add(response.status_code)
    assert statuses >= {200, 400, 401, 404, 409, 413, 415, 429, 500, 503}


def test_negative_requests_are_refused_by_the_validator_too(
    openapi: OpenAPI, exchanges: list[tuple[bool, requests.Response]]
) -> None:
    """The mock and openapi-core agree on which requests break the spec (the URL with a final line
    break included: the portable pattern means the same in both)."""
    negatives = [response for valid, response in exchanges if not valid]
    assert len(negatives) >= 12
    for response in negatives:
        assert 400 <= response.status_code < 500, response.request.url
        with pytest.raises(OpenAPIError):
            openapi.validate_request(RequestsOpenAPIRequest(response.request))


def _with_body(response: requests.Response, body: dict[str, Any]) -> requests.Response:
    forged = copy.copy(response)
    forged._content = json.dumps(body).encode()
    return forged


@pytest.mark.parametrize(
    ("wrong_code", "why"), [(1003, "a 400 code"), (1009, "a 429 code"), (10001, "a task code")]
)
def test_a_code_from_another_status_is_refused(
    openapi: OpenAPI, exchanges: list[tuple[bool, requests.Response]], wrong_code: int, why: str
) -> None:
    not_found = next(r for _, r in exchanges if r.status_code == 404 and "video.get" in (r.request.url or ""))
    request = RequestsOpenAPIRequest(not_found.request)
    openapi.validate_response(request, RequestsOpenAPIResponse(not_found))
    forged = _with_body(not_found, {**not_found.json(), "code": wrong_code})
    with pytest.raises(OpenAPIError):
        openapi.validate_response(request, RequestsOpenAPIResponse(forged))


def test_a_finished_video_without_its_promised_fields_is_refused(
    openapi: OpenAPI, exchanges: list[tuple[bool, requests.Response]]
) -> None:
    finished = next(
        r
        for _, r in exchanges
        if "video.get" in (r.request.url or "")
        and r.status_code == 200
        and r.json()["data"]["status"] == "finished"
    )
    request = RequestsOpenAPIRequest(finished.request)
    body = finished.json()
    del body["data"]["video_url"]  # the one field the upstream always sends with `finished`
    with pytest.raises(OpenAPIError):
        openapi.validate_response(request, RequestsOpenAPIResponse(_with_body(finished, body)))
    optional = finished.json()
    optional["data"]["mask_video_url"] = 42  # an optional field, present with the wrong type
    with pytest.raises(OpenAPIError):
        openapi.validate_response(request, RequestsOpenAPIResponse(_with_body(finished, optional)))
