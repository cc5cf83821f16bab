"""Layer 2: every operation fuzzed with schemathesis 4.x, positive and negative data.

Schemathesis generates the cases (`operation.as_strategy(generation_mode=...)`); the kit sends them with
its own httpx client (so the same run works over the network and in-process), then runs each
schemathesis response check on its own so a failure is attributed to one requirement id.

Positive `video.generate` cases get the kit's 404 audio URL (and no callback URL): fuzzing must not make
the implementation download random hosts or render random files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given

from contract_tests.checks.support import FUZZ_REQUIREMENTS, kit_settings, seeded, send_case, tame, validate
from contract_tests.requirement_ids import Req

if TYPE_CHECKING:
    from schemathesis.generation import GenerationMode

    from a2v_spec import Spec
    from contract_tests.audio_source import AudioSource
    from contract_tests.client import A2VClient
    from contract_tests.config import KitOptions, Profile


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "operation_id" not in metafunc.fixturenames:
        return
    from a2v_spec import load_spec
    from contract_tests import stash

    options = metafunc.config.stash.get(stash.OPTIONS, None)
    spec = load_spec(options.spec_path if options else None)
    metafunc.parametrize("operation_id", sorted(spec.operations))


@pytest.fixture(scope="session")
def st_schema(a2v_spec: Spec) -> Any:
    import schemathesis

    return schemathesis.openapi.from_dict(a2v_spec.document)


def _fuzz(
    mode: GenerationMode,
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
    headers = {"Authorization": f"Bearer {a2v_options.api_key}"} if op.needs_auth else None
    strategy = operation.as_strategy(generation_mode=mode, headers=headers)

    @kit_settings(a2v_options, a2v_profile.fuzz_examples)
    @given(case=strategy)
    def run(case: Any) -> None:
        if mode is GenerationMode.POSITIVE:
            case = tame(case, a2v_audio, a2v_spec)
        response = send_case(case, a2v_client, a2v_options.base_url)
        if mode is GenerationMode.NEGATIVE:
            only: set[str] = {Req.FUZZ_NEGATIVE_REJECTED, *FUZZ_REQUIREMENTS}
        else:
            only = set(FUZZ_REQUIREMENTS)
        validate(case, response, a2v_spec, only=only, base_url=a2v_options.base_url)

    seeded(run, a2v_options)()


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
    from schemathesis.generation import GenerationMode

    _fuzz(
        GenerationMode.POSITIVE,
        operation_id,
        a2v_options,
        a2v_profile,
        a2v_spec,
        a2v_client,
        a2v_audio,
        st_schema,
    )


@pytest.mark.a2v_requirement(Req.FUZZ_NEGATIVE_REJECTED, *FUZZ_REQUIREMENTS, independent=True)
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
    from schemathesis.generation import GenerationMode

    _fuzz(
        GenerationMode.NEGATIVE,
        operation_id,
        a2v_options,
        a2v_profile,
        a2v_spec,
        a2v_client,
        a2v_audio,
        st_schema,
    )
