"""Layer 4: the task lifecycle, hand-written, with hypothesis choosing the audio.

Statuses only move forward, progress never decreases, fields match the status, valid audio of every
accepted container reaches `finished` within `--timeout`, and bad audio ends in the documented code.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import Phase, given
from hypothesis import strategies as st

from a2v_spec import ErrorCode, Status
from contract_tests.audio import FIXTURE_FILES, FORMATS, AudioSpec
from contract_tests.checks.support import (
    PAGE_RULE,
    check_duration,
    check_shape,
    conforms,
    envelope_code,
    expect_error,
    kit_settings,
    optional_absent,
    page_problem,
    seeded,
    succeeded,
)
from contract_tests.evidence import observe as record
from contract_tests.evidence import unobserved
from contract_tests.fixtures import submit_task
from contract_tests.media import probe
from contract_tests.requirement_ids import Req
from contract_tests.requirements import kinds
from contract_tests.task_run import run_task
from contract_tests.violations import ContractViolation, check

if TYPE_CHECKING:
    import httpx

    from a2v_spec import Spec
    from contract_tests.audio_source import AudioSource
    from contract_tests.client import A2VClient
    from contract_tests.config import KitOptions, Profile
    from contract_tests.task_pool import TaskPool
    from contract_tests.task_run import Stalls, TaskRun

requirement = pytest.mark.a2v_requirement


@requirement(Req.GENERATE_READABLE, Req.GET_SAME_VIDEO)
def test_new_task_is_readable_at_once(
    a2v_client: A2VClient, a2v_spec: Spec, a2v_audio: AudioSource, a2v_model_id: str
) -> None:
    created = []
    for _ in range(2):
        video_id = a2v_client.generate_video(a2v_model_id, a2v_audio.missing())
        response = a2v_client.request_operation("getVideo", params={"video_id": video_id})
        check(
            response.status_code == 200,
            Req.GENERATE_READABLE,
            f"video.get of the id video.generate just returned answered HTTP {response.status_code}",
            expected="HTTP 200 with the task",
            response=response,
        )
        data = conforms(response, a2v_spec, "getVideo", Req.GENERATE_READABLE)["data"]
        check(
            data["video_id"] == video_id,
            Req.GET_SAME_VIDEO,
            f"video.get?video_id={video_id} answered video {data['video_id']!r}",
            expected=f"video_id {video_id}",
            response=response,
        )
        created.append(video_id)
        if data.get("status") == Status.PENDING:
            # "records a task in status pending": judged only when a first read shows it.
            record(Req.GENERATE_READABLE, kinds.STARTED_PENDING)
    if len(set(created)) < 2:
        # The control: reading "the new task" means nothing when every task has one id.
        raise unobserved(
            Req.GENERATE_READABLE,
            f"two generates answered one video_id ({created[0]}): which task was read cannot be told",
        )
    record(Req.GENERATE_READABLE, kinds.DISTINCT_IDS)


@requirement(Req.GENERATE_NEW_ID)
def test_generate_without_key_creates_a_new_task(
    a2v_client: A2VClient, a2v_audio: AudioSource, a2v_model_id: str
) -> None:
    """Two identical generates without an Idempotency-Key are two tasks: two different ids."""
    first = a2v_client.generate_video(a2v_model_id, a2v_audio.missing(), idempotency_key=False)
    second = a2v_client.generate_video(a2v_model_id, a2v_audio.missing(), idempotency_key=False)
    check(
        first != second,
        Req.GENERATE_NEW_ID,
        f"two generates without an Idempotency-Key both answered video_id {first}",
        expected="two different video_ids (no key: every generate starts a new task)",
        response=a2v_client.last_response,
    )
    record(Req.GENERATE_NEW_ID, kinds.DISTINCT_IDS)


@requirement(Req.LIFECYCLE_FORWARD, Req.LIFECYCLE_PROGRESS, Req.LIFECYCLE_FINISHES)
def test_valid_wav_finishes(a2v_finished_task: TaskRun) -> None:
    statuses = [v.status for v in a2v_finished_task.history]
    check(
        statuses[-1] is Status.FINISHED,
        Req.LIFECYCLE_FINISHES,
        f"statuses seen: {statuses}",
        response=a2v_finished_task.last_response,
    )
    record(Req.LIFECYCLE_FINISHES, kinds.FINISHED_WAV)
    # progress (0 while pending, 100 when finished) is judged on every read by `run_task`.


@requirement(Req.LIFECYCLE_FORWARD, Req.LIFECYCLE_PROGRESS, Req.LIFECYCLE_FINISHES)
def test_valid_mp3_finishes(
    a2v_options: KitOptions, a2v_tasks: TaskPool, a2v_audio: AudioSource, a2v_model_id: str
) -> None:
    """ "WAV and MP3 always": the MP3 fixture is one of the shared tasks, rendered in parallel."""
    submit_task(a2v_tasks, "speech.mp3", a2v_options, a2v_audio, a2v_model_id)
    task = a2v_tasks.result("speech.mp3")
    check(
        task.final.status is Status.FINISHED,
        Req.LIFECYCLE_FINISHES,
        f"a valid 1 s MP3 ended in status {task.final.status!r} ({task.final.error})",
        expected=f"status {Status.FINISHED}",
        response=task.last_response,
    )
    record(Req.LIFECYCLE_FINISHES, kinds.FINISHED_MP3)


@requirement(Req.LIFECYCLE_SHAPE)
def test_every_observed_state_has_its_shape(
    a2v_finished_task: TaskRun, a2v_spec: Spec, a2v_client: A2VClient
) -> None:
    for video in a2v_finished_task.history:
        check_shape(video, a2v_spec, a2v_client, a2v_finished_task.last_response)
    final = a2v_finished_task.final
    check(
        bool(final.video_url),
        Req.LIFECYCLE_SHAPE,
        f"finished video {final.video_id} has no video_url",
        response=a2v_finished_task.last_response,
    )


def _audio_strategy(audio: AudioSource) -> st.SearchStrategy[tuple[str, float, str]]:
    """(url, seconds, label) of valid audio: generated on the fly locally, else the fixed fixtures."""
    if not audio.can_generate:
        names = [n for n, spec in FIXTURE_FILES.items() if spec is not None]
        return st.sampled_from(names).map(lambda n: (audio.fixture(n), audio.fixture_seconds(n), n))

    @st.composite
    def generated(draw: st.DrawFn) -> tuple[str, float, str]:
        fmt = draw(st.sampled_from(sorted(FORMATS)))
        spec = AudioSpec(
            fmt=fmt,
            sample_rate=draw(st.sampled_from(FORMATS[fmt].rates)),
            channels=draw(st.sampled_from([1, 2])),
            seconds=draw(st.sampled_from([0.5, 0.8, 1.2, 1.7, 2.5])),
            seed=draw(st.integers(0, 1000)),
        )
        url, seconds = audio.generated(spec)
        return url, seconds, spec.filename

    return generated()


@requirement(Req.LIFECYCLE_FINISHES, Req.LIFECYCLE_FORWARD, Req.LIFECYCLE_PROGRESS, Req.FILE_DURATION)
def test_any_accepted_audio_finishes_with_its_duration(
    a2v_options: KitOptions,
    a2v_profile: Profile,
    a2v_spec: Spec,
    a2v_client: A2VClient,
    a2v_audio: AudioSource,
    a2v_model_id: str,
    a2v_stalls: Stalls,
) -> None:
    if not a2v_profile.audio_examples:
        pytest.skip(f"the {a2v_profile.name} profile renders only the shared task (A2V-LIFECYCLE-FINISHES)")

    @kit_settings(a2v_options, a2v_profile.audio_examples, phases=[Phase.generate])
    @given(audio=_audio_strategy(a2v_audio))
    def run(audio: tuple[str, float, str]) -> None:
        url, seconds, label = audio
        task = run_task(
            a2v_client,
            a2v_model_id,
            url,
            timeout=a2v_options.timeout,
            audio_seconds=seconds,
            stalls=a2v_stalls,
        )
        final = task.final
        check(
            final.status is Status.FINISHED,
            Req.LIFECYCLE_FINISHES,
            f"valid audio {label} ({seconds:.2f} s) ended in {final.status!r}: {final.error}",
            expected="status finished",
            response=a2v_client.last_response,
        )
        fresh = a2v_client.get_video(task.video_id)
        assert fresh.video_url is not None
        data = a2v_client.download(fresh.video_url)
        try:
            info = probe(data)
        except ValueError as err:
            raise ContractViolation(
                Req.FILE_VIDEO_MP4,
                f"the video of {label} is not media: {err}",
                response=a2v_client.last_response,
            ) from err
        check_duration(
            info.video_seconds, seconds, info.fps, f"the video of {label}", a2v_client.last_response
        )

    seeded(run, a2v_options)()


def _listed(response: httpx.Response, spec: Spec, requirement_id: str) -> list[dict[str, Any]]:
    """A `video.list` answer's videos (`data` is the documented plain array), its page judged against
    the query and the optional `X-Total-Count`."""
    items: list[dict[str, Any]] = conforms(response, spec, "listVideos", requirement_id)["data"]
    problem = page_problem(
        spec, len(items), response.request.url.params, response.headers.get("X-Total-Count")
    )
    check(
        problem is None,
        Req.LIFECYCLE_LIST,
        f"video.list: {problem}",
        expected=PAGE_RULE,
        response=response,
    )
    return items


@requirement(Req.LIFECYCLE_LIST)
def test_list_shows_new_task_first_and_filters(
    a2v_client: A2VClient,
    a2v_spec: Spec,
    a2v_audio: AudioSource,
    a2v_model_id: str,
    a2v_finished_task: TaskRun,
) -> None:
    video_id = a2v_client.generate_video(a2v_model_id, a2v_audio.missing())
    response = a2v_client.request_operation("listVideos", params={"page": 1, "page_size": 100})
    items = _listed(response, a2v_spec, Req.LIFECYCLE_LIST)
    ids = [i["video_id"] for i in items]
    check(
        video_id in ids,
        Req.LIFECYCLE_LIST,
        f"the task just created ({video_id}) is not on page 1 of video.list",
        expected="newest first",
        response=response,
    )
    mine = items[ids.index(video_id)]
    if not isinstance(mine.get("created_at"), int):  # optional: the order is judged by it when present
        optional_absent(
            Req.LIFECYCLE_LIST,
            f"the listed task {video_id} has no created_at (an optional field): newest first cannot be told",
        )
    # Newest first by created_at (seconds), ties broken by video_id: tasks of the same second may come first.
    check(
        all(i.get("created_at") == mine.get("created_at") for i in items[: ids.index(video_id)]),
        Req.LIFECYCLE_LIST,
        f"older tasks are listed before the task just created ({video_id})",
        expected="newest first (by created_at, then video_id)",
        response=response,
    )
    created = [int(i["created_at"]) for i in items if isinstance(i.get("created_at"), int)]
    check(
        created == sorted(created, reverse=True),
        Req.LIFECYCLE_LIST,
        "items are not newest first",
        response=response,
    )
    finished_id = a2v_finished_task.video_id
    in_finished = a2v_client.request_operation(
        "listVideos", params={"status": Status.FINISHED, "page_size": 100}
    )
    listed = _listed(in_finished, a2v_spec, Req.LIFECYCLE_LIST)
    check(
        all(i["status"] == Status.FINISHED for i in listed)
        and finished_id in {i["video_id"] for i in listed},
        Req.LIFECYCLE_LIST,
        "status=finished must list exactly the finished tasks (the kit's is missing or others leak in)",
        response=in_finished,
    )
    in_pending = a2v_client.request_operation(
        "listVideos", params={"status": Status.PENDING, "page_size": 100}
    )
    pending = _listed(in_pending, a2v_spec, Req.LIFECYCLE_LIST)
    check(
        finished_id not in {i["video_id"] for i in pending}
        and all(i["status"] == Status.PENDING for i in pending),
        Req.LIFECYCLE_LIST,
        "status=pending lists a task that is not pending",
        response=in_pending,
    )


_TASK_ERRORS = [
    (Req.ERROR_AUDIO_404, "missing", ErrorCode.FILE_NOT_FOUND),
    (Req.ERROR_AUDIO_UNREACHABLE, "unreachable", ErrorCode.AUDIO_UNREACHABLE),
    (Req.ERROR_NOT_AUDIO, "not_audio.wav", ErrorCode.AUDIO_NOT_DECODABLE),
    (Req.ERROR_AUDIO_TOO_LONG, "too_long.wav", ErrorCode.AUDIO_TOO_LONG),
]


def _task_error_params() -> list[Any]:
    return [
        pytest.param(rid, source, code, marks=requirement(rid, Req.LIFECYCLE_SHAPE), id=rid)
        for rid, source, code in _TASK_ERRORS
    ]


@pytest.mark.parametrize(("requirement_id", "source", "code"), _task_error_params())
def test_bad_audio_ends_in_documented_error(
    requirement_id: str,
    source: str,
    code: ErrorCode,
    a2v_options: KitOptions,
    a2v_spec: Spec,
    a2v_client: A2VClient,
    a2v_audio: AudioSource,
    a2v_model_id: str,
    a2v_tasks: TaskPool,
) -> None:
    submit_task(a2v_tasks, source, a2v_options, a2v_audio, a2v_model_id)
    task = a2v_tasks.result(source)
    final = task.final
    for video in task.history:
        check_shape(video, a2v_spec, a2v_client, task.last_response)
    check(
        final.status is Status.ERROR,
        requirement_id,
        f"the task ended in {final.status!r}",
        expected=f"status error with error.code {int(code)}",
        response=task.last_response,
    )
    if final.error is None:  # optional (the upstream shows none): the cause is judged when given
        optional_absent(
            requirement_id,
            f"the failed task {final.video_id} has no error object (optional): its cause cannot be told",
        )
        return
    check(
        final.error.code == code,
        requirement_id,
        f"error is {final.raw.get('error')!r}",
        expected=f"error.code {int(code)} ({a2v_spec.errors[code].message})",
        response=task.last_response,
    )


@requirement(Req.AUTH_TENANT_ISOLATION)
def test_tokens_do_not_see_each_other(
    a2v_client: A2VClient,
    a2v_second_client: A2VClient,
    a2v_spec: Spec,
    a2v_audio: AudioSource,
    a2v_model_id: str,
) -> None:
    video_id = a2v_client.generate_video(a2v_model_id, a2v_audio.missing())
    other = a2v_second_client.request_operation("getVideo", params={"video_id": video_id})
    expect_error(other, Req.AUTH_TENANT_ISOLATION, ErrorCode.VIDEO_NOT_FOUND, a2v_spec)
    listed = a2v_second_client.request_operation("listVideos", params={"page_size": 100})
    items = _listed(listed, a2v_spec, Req.AUTH_TENANT_ISOLATION)
    check(
        video_id not in {i["video_id"] for i in items},
        Req.AUTH_TENANT_ISOLATION,
        f"another token's video {video_id} is in this token's video.list",
        response=listed,
    )
    mine = a2v_second_client.generate_video(a2v_model_id, a2v_audio.missing())
    back = a2v_client.request_operation("getVideo", params={"video_id": mine})
    expect_error(back, Req.AUTH_TENANT_ISOLATION, ErrorCode.VIDEO_NOT_FOUND, a2v_spec)
    # The control: each owner does see its own video, else the 20002s above prove nothing.
    for client, owned in ((a2v_client, video_id), (a2v_second_client, mine)):
        own = client.request_operation("getVideo", params={"video_id": owned})
        if not succeeded(own):
            raise unobserved(
                Req.AUTH_TENANT_ISOLATION,
                f"the owner of {owned} cannot read it either (HTTP {own.status_code}, "
                f"code {envelope_code(own)!r}): the other token's 20002 proves no isolation",
            )
    record(Req.AUTH_TENANT_ISOLATION, kinds.OWNER_READS)


@requirement(Req.IDEMPOTENCY_REPLAY)
def test_idempotent_retry_returns_same_task(
    a2v_client: A2VClient, a2v_audio: AudioSource, a2v_model_id: str
) -> None:
    rid = Req.IDEMPOTENCY_REPLAY
    # The control: without a key (or with another key) the service tells tasks apart; else a replay
    # answering the same id shows nothing.
    plain = {
        a2v_client.generate_video(a2v_model_id, a2v_audio.missing(), idempotency_key=False) for _ in range(2)
    }
    other = a2v_client.generate_video(
        a2v_model_id, a2v_audio.missing(), idempotency_key=f"kit-{secrets.token_hex(8)}"
    )
    if len(plain | {other}) < 3:
        raise unobserved(
            rid,
            f"two generates without a key and one with a fresh key answered {len(plain | {other})} "
            f"distinct video_id(s) ({', '.join(sorted(plain | {other}))}): a replay answering the same "
            "id would prove nothing",
        )
    record(rid, kinds.DISTINCT_IDS)
    key = f"kit-{secrets.token_hex(8)}"
    first = a2v_client.generate_video(a2v_model_id, a2v_audio.missing(), idempotency_key=key)
    second = a2v_client.generate_video(a2v_model_id, a2v_audio.missing(), idempotency_key=key)
    check(
        first == second,
        rid,
        f"the same Idempotency-Key and body gave two tasks ({first}, {second})",
        expected=f"video_id {first} again",
        response=a2v_client.last_response,
    )
    record(rid, kinds.REPLAYED)


@requirement(Req.IDEMPOTENCY_CONFLICT)
def test_idempotency_key_with_other_body_conflicts(
    a2v_client: A2VClient, a2v_spec: Spec, a2v_audio: AudioSource, a2v_model_id: str
) -> None:
    key = f"kit-{secrets.token_hex(8)}"
    first = a2v_client.request_operation(
        "generateVideo",
        json_body={"model_id": a2v_model_id, "audio_url": a2v_audio.missing()},
        headers={"Idempotency-Key": key},
    )
    if not succeeded(first):
        # The control: a conflict is only a conflict with a request the service accepted.
        raise unobserved(
            Req.IDEMPOTENCY_CONFLICT,
            f"the first request with the key was not accepted (HTTP {first.status_code}, "
            f"code {envelope_code(first)!r}), so a refusal of the second shows no conflict handling",
        )
    record(Req.IDEMPOTENCY_CONFLICT, kinds.FIRST_ACCEPTED)
    body = {"model_id": a2v_model_id, "audio_url": a2v_audio.missing() + "?other=1"}
    response = a2v_client.request_operation("generateVideo", json_body=body, headers={"Idempotency-Key": key})
    expect_error(response, Req.IDEMPOTENCY_CONFLICT, ErrorCode.IDEMPOTENCY_CONFLICT, a2v_spec)
