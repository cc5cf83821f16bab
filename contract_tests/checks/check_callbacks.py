"""Callbacks: the kit's receiver gets the task's final state, signed as the spec describes."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import TYPE_CHECKING

import pytest

from a2v_spec import TERMINAL
from contract_tests.evidence import observe as record
from contract_tests.fixtures import submit_task
from contract_tests.requirement_ids import Req
from contract_tests.requirements import kinds
from contract_tests.violations import check

if TYPE_CHECKING:
    from a2v_spec import Spec
    from contract_tests.audio_source import AudioSource
    from contract_tests.client import A2VClient
    from contract_tests.config import KitOptions
    from contract_tests.servers import CallbackDelivery
    from contract_tests.task_pool import TaskPool

requirement = pytest.mark.a2v_requirement
SIGNATURE = re.compile(r"^t=(\d+),v1=([0-9a-f]{64})$")


def verify_signature(delivery: CallbackDelivery, token: str, now: float | None = None) -> str | None:
    """None when `X-A2V-Signature` is valid for `token`, else what is wrong with it."""
    header = delivery.headers.get("x-a2v-signature")
    if header is None:
        return "no X-A2V-Signature header"
    match = SIGNATURE.match(header)
    if not match:
        return f"X-A2V-Signature {header!r} is not 't=<unix seconds>,v1=<64 hex>'"
    stamp, given = match.groups()
    expected = hmac.new(token.encode(), stamp.encode() + b"." + delivery.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        return "the signature is not HMAC-SHA256(token, '<t>.<body>')"
    if abs((now or time.time()) - int(stamp)) > 300:
        return f"the signature's t={stamp} is more than 5 minutes away from now"
    return None


def _callback_task(
    name: str, a2v_options: KitOptions, a2v_tasks: TaskPool, a2v_audio: AudioSource, a2v_model_id: str
) -> tuple[str, str]:
    """(video_id, receiver key) of the shared task `name`, which was given a callback URL."""
    if a2v_options.audio_base_url is not None and a2v_options.public_url is None:
        pytest.skip(
            "the implementation gets its audio from --audio-base-url, so the kit's callback receiver is "
            "taken to be unreachable; give it --listen HOST:PORT and --public-url URL"
        )
    submit_task(a2v_tasks, name, a2v_options, a2v_audio, a2v_model_id)
    if name not in a2v_tasks.callback_keys:
        pytest.skip(f"the shared {name} task was started without a callback URL (callbacks skipped)")
    return a2v_tasks.result(name).video_id, a2v_tasks.callback_keys[name]


@pytest.fixture(scope="session")
def callback_run(
    a2v_options: KitOptions, a2v_tasks: TaskPool, a2v_audio: AudioSource, a2v_model_id: str
) -> tuple[str, list[CallbackDelivery]]:
    """The shared finished task, which was given the kit's receiver: its deliveries."""
    video_id, key = _callback_task("finished", a2v_options, a2v_tasks, a2v_audio, a2v_model_id)
    deliveries = a2v_audio.server.wait_for_callbacks(key, timeout=min(a2v_options.timeout, 30))
    return video_id, deliveries


@requirement(Req.CALLBACK_DELIVERY)
def test_callback_is_delivered(
    callback_run: tuple[str, list[CallbackDelivery]], a2v_spec: Spec, a2v_client: A2VClient
) -> None:
    video_id, deliveries = callback_run
    rid = Req.CALLBACK_DELIVERY
    check(deliveries, rid, f"no callback arrived for video {video_id} within the wait")
    record(rid, kinds.DELIVERY, len(deliveries))
    delivery = deliveries[0]
    try:
        body = json.loads(delivery.body)
    except ValueError:
        body = None
    errors = a2v_spec.schemas.errors("/components/schemas/VideoResponse", body)
    check(not errors, rid, f"the callback body does not match VideoResponse: {errors[0] if errors else ''}")
    data = body["data"]
    check(data["video_id"] == video_id, rid, f"the callback is for {data['video_id']}, not {video_id}")
    check(
        data["status"] in {str(status) for status in TERMINAL},
        rid,
        f"the callback reports status {data['status']!r}, not a terminal one",
    )
    event = delivery.headers.get("x-a2v-event")
    check(event == f"video.{data['status']}", rid, f"X-A2V-Event is {event!r} for status {data['status']!r}")
    check(delivery.headers.get("x-a2v-delivery"), rid, "no X-A2V-Delivery header")
    ids = {d.headers.get("x-a2v-delivery") for d in deliveries}
    check(
        len(ids) == 1, rid, f"one task ending sent {len(ids)} different deliveries: {sorted(map(str, ids))}"
    )


@requirement(Req.CALLBACK_SIGNATURE)
def test_callback_signature(
    callback_run: tuple[str, list[CallbackDelivery]], a2v_options: KitOptions
) -> None:
    video_id, deliveries = callback_run
    check(deliveries, Req.CALLBACK_DELIVERY, f"no callback arrived for video {video_id} within the wait")
    record(Req.CALLBACK_SIGNATURE, kinds.DELIVERY, len(deliveries))
    for delivery in deliveries:
        problem = verify_signature(delivery, a2v_options.api_key)
        check(problem is None, Req.CALLBACK_SIGNATURE, f"callback for {video_id}: {problem}")


@pytest.fixture(scope="session")
def flaky_callback_run(
    a2v_options: KitOptions, a2v_tasks: TaskPool, a2v_audio: AudioSource, a2v_model_id: str
) -> tuple[str, list[CallbackDelivery]]:
    """The shared failed task, whose receiver answers 500 to the first delivery: the retry follows."""
    video_id, key = _callback_task("missing", a2v_options, a2v_tasks, a2v_audio, a2v_model_id)
    # The spec's back-off starts at 1 s; leave room for a slow first attempt.
    deliveries = a2v_audio.server.wait_for_callbacks(key, 2, timeout=min(a2v_options.timeout, 30), flaky=True)
    return video_id, deliveries


@requirement(Req.CALLBACK_RETRY)
def test_callback_is_retried_after_a_5xx(
    flaky_callback_run: tuple[str, list[CallbackDelivery]], a2v_options: KitOptions
) -> None:
    video_id, deliveries = flaky_callback_run
    rid = Req.CALLBACK_RETRY
    check(deliveries, Req.CALLBACK_DELIVERY, f"no callback arrived for video {video_id} within the wait")
    check(
        len(deliveries) >= 2,
        rid,
        f"the receiver answered 500 to the callback of {video_id} and no retry came",
        expected="a second attempt after about 1 s (back-off 1 s, 2 s, 4 s, ...)",
    )
    ids = {d.headers.get("x-a2v-delivery") for d in deliveries}
    check(len(ids) == 1, rid, f"the retry carries another X-A2V-Delivery: {sorted(map(str, ids))}")
    for attempt, delivery in enumerate(deliveries, 1):
        problem = verify_signature(delivery, a2v_options.api_key)
        check(problem is None, rid, f"attempt {attempt} of the callback for {video_id}: {problem}")
    record(rid, kinds.DELIVERY, len(deliveries))
