"""Layer 2: every operation fuzzed with schemathesis 4.x, positive and negative data.

Schemathesis generates the cases (`operation.as_strategy(generation_mode=...)`); the kit sends them with
its own httpx client (so the same run works over the network and in-process), then runs each
schemathesis response check on its own so a failure is attributed to one requirement id.

Positive `video.generate` cases get the kit's 404 audio URL (and no callback URL): fuzzing must not make
the implementation download random hosts or render random files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, reject, seed, settings

from contract_tests.verdict import ContractViolation

if TYPE_CHECKING:
    from a2v_spec import Spec
    from contract_tests.client import A2VClient
    from contract_tests.config import KitOptions, Profile
    from contract_tests.fixtures import AudioSource

FUZZ_REQUIREMENTS = (
    "A2V-FUZZ-NO-SERVER-ERROR",
    "A2V-FUZZ-STATUS-CODE",
    "A2V-FUZZ-CONTENT-TYPE",
    "A2V-FUZZ-RESPONSE-SCHEMA",
    "A2V-RATELIMIT-HEADERS",
    "A2V-ENVELOPE-ERROR-CODE",
)


def _checks() -> list[tuple[str, Any]]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        ("A2V-FUZZ-NO-SERVER-ERROR", not_a_server_error),
        ("A2V-FUZZ-STATUS-CODE", status_code_conformance),
        ("A2V-FUZZ-CONTENT-TYPE", content_type_conformance),
        ("A2V-RATELIMIT-HEADERS", response_headers_conformance),
        ("A2V-FUZZ-RESPONSE-SCHEMA", response_schema_conformance),
        ("A2V-FUZZ-NEGATIVE-REJECTED", negative_data_rejection),
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "operation_id" not in metafunc.fixturenames:
        return
    from a2v_spec import load_spec
    from contract_tests.plugin import OPTIONS_KEY

    options = metafunc.config.stash.get(OPTIONS_KEY, None)
    spec = load_spec(options.spec_path if options else None)
    metafunc.parametrize("operation_id", sorted(spec.operations))


@pytest.fixture(scope="session")
def st_schema(a2v_spec: Spec) -> Any:
    import schemathesis

    return schemathesis.openapi.from_dict(a2v_spec.document)


def envelope_code_matches(response: httpx.Response, spec: Spec) -> str | None:
    """None when an error answer's code is a catalog code whose HTTP status is the answer's."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return None  # the schema checks report a non-JSON answer
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, int) or isinstance(code, bool) or code not in spec.errors:
        return f"error answer with code {code!r}, which is not in x-a2v-error-catalog"
    expected = spec.errors[code].http_status
    if expected is not None and expected != response.status_code:
        return f"code {code} must be answered with HTTP {expected}, got {response.status_code}"
    return None


def send_case(case: Any, client: A2VClient, base_url: str) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url=base_url)
    headers = {k: v for k, v in kwargs.get("headers", {}).items() if k.lower() != "connection"}
    content = kwargs.get("data")
    if isinstance(content, str):
        content = content.encode()
    try:
        return client.request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params") or None,
            json_body=kwargs.get("json"),
            content=content,
            headers=headers,
            auth=False,
        )
    except (httpx.LocalProtocolError, UnicodeEncodeError, ValueError):
        # HTTP itself cannot carry this case (e.g. a header value with a newline): not the server's fault.
        reject()
    except httpx.TransportError as err:
        raise ContractViolation(
            "A2V-FUZZ-NO-SERVER-ERROR",
            f"{case.operation.label}: no answer, the connection failed: {type(err).__name__}: {err}",
            expected="an HTTP answer (4xx for bad input)",
            curl_command=case.as_curl_command(base_url=base_url),
        ) from err


def validate(
    case: Any, response: httpx.Response, spec: Spec, only: set[str] | None = None, base_url: str | None = None
) -> None:
    """Run every mapped check; raise the first ContractViolation (each names its requirement)."""
    from schemathesis.core.failures import FailureGroup

    curl_command = case.as_curl_command(headers=dict(response.request.headers), base_url=base_url)
    for requirement_id, check_fn in _checks():
        if only is not None and requirement_id not in only:
            continue
        try:
            case.validate_response(response, checks=[check_fn], headers=dict(response.request.headers))
        except FailureGroup as group:
            failure = group.exceptions[0]
            raise ContractViolation(
                requirement_id,
                f"{case.operation.label}: {failure.title}: {failure.message}"[:1500],
                response=response,
                curl_command=curl_command,
            ) from None
    if only is None or "A2V-ENVELOPE-ERROR-CODE" in only:
        problem = envelope_code_matches(response, spec)
        if problem:
            raise ContractViolation(
                "A2V-ENVELOPE-ERROR-CODE",
                f"{case.operation.label}: {problem}",
                expected="a catalog code answered with its catalog HTTP status",
                response=response,
                curl_command=curl_command,
            )


def _tame(case: Any, audio: AudioSource) -> Any:
    """Point positive generate cases at the kit's 404 audio so no random host is contacted."""
    body = case.body
    if case.operation.path == "/v1/a2v/video.generate" and isinstance(body, dict):
        body = dict(body)
        if "audio_url" in body:
            body["audio_url"] = audio.missing()
        body.pop("callback_url", None)
        case.body = body
    return case


def _fuzz(
    mode_name: str,
    operation_id: str,
    a2v_options: KitOptions,
    a2v_profile: Profile,
    a2v_spec: Spec,
    a2v_client: A2VClient,
    a2v_audio: AudioSource,
    st_schema: Any,
) -> None:
    from schemathesis.generation import GenerationMode

    op = a2v_spec.operation(operation_id)
    operation = st_schema[op.path][op.method.upper()]
    mode = GenerationMode.POSITIVE if mode_name == "positive" else GenerationMode.NEGATIVE
    headers = {"Authorization": f"Bearer {a2v_options.api_key}"} if op.needs_auth else None
    strategy = operation.as_strategy(generation_mode=mode, headers=headers)

    @settings(
        max_examples=a2v_profile.fuzz_examples,
        deadline=None,
        database=None,
        derandomize=a2v_options.seed is None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        if mode is GenerationMode.POSITIVE:
            case = _tame(case, a2v_audio)
        response = send_case(case, a2v_client, a2v_options.base_url)
        if mode is GenerationMode.NEGATIVE:
            only = {"A2V-FUZZ-NEGATIVE-REJECTED", *FUZZ_REQUIREMENTS}
        else:
            only = set(FUZZ_REQUIREMENTS)
        validate(case, response, a2v_spec, only=only, base_url=a2v_options.base_url)

    if a2v_options.seed is not None:
        run = seed(a2v_options.seed)(run)
    run()


@pytest.mark.a2v_requirement(*FUZZ_REQUIREMENTS, independent=True)
def test_fuzz_positive(
    operation_id: str,
    a2v_options: KitOptions,
    a2v_profile: Profile,
    a2v_spec: Spec,
    a2v_client: A2VClient,
    a2v_audio: AudioSource,
    st_schema: Any,
) -> None:
    _fuzz("positive", operation_id, a2v_options, a2v_profile, a2v_spec, a2v_client, a2v_audio, st_schema)


@pytest.mark.a2v_requirement("A2V-FUZZ-NEGATIVE-REJECTED", *FUZZ_REQUIREMENTS, independent=True)
def test_fuzz_negative(
    operation_id: str,
    a2v_options: KitOptions,
    a2v_profile: Profile,
    a2v_spec: Spec,
    a2v_client: A2VClient,
    a2v_audio: AudioSource,
    st_schema: Any,
) -> None:
    op = a2v_spec.operation(operation_id)
    if not op.parameters and op.body_pointer is None:
        pytest.skip(f"{operation_id} takes no input to break")
    _fuzz("negative", operation_id, a2v_options, a2v_profile, a2v_spec, a2v_client, a2v_audio, st_schema)
