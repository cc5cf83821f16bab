"""Callbacks: the kit's receiver gets the task's final state, signed as the spec describes."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from typing import TYPE_CHECKING

import pytest

from a2v_spec import TERMINAL
from contract_tests.violations import check

if TYPE_CHECKING:
    from a2v_spec import Spec
    from contract_tests.audio_source import AudioSource
    from contract_tests.client import A2VClient
    from contract_tests.config import KitOptions
    from contract_tests.servers import CallbackDelivery

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


@pytest.fixture(scope="session")
def callback_run(
    a2v_options: KitOptions, a2v_client: A2VClient, a2v_audio: AudioSource, a2v_model_id: str
) -> tuple[str, list[CallbackDelivery]]:
    if a2v_options.audio_base_url is not None:
        pytest.skip(
            "the kit's callback receiver listens on 127.0.0.1 only; --skip callbacks for remote services"
        )
    key = secrets.token_hex(8)
    video_id = a2v_client.generate_video(
        a2v_model_id, a2v_audio.fixture("speech.wav"), callback_url=a2v_audio.server.callback_url(key)
    )
    a2v_client.wait_for_video(video_id, timeout=a2v_options.timeout, poll_interval=0.2, max_interval=2)
    deliveries = a2v_audio.server.wait_for_callbacks(key, timeout=min(a2v_options.timeout, 30))
    return video_id, deliveries


@requirement("A2V-CALLBACK-DELIVERY")
def test_callback_is_delivered(
    callback_run: tuple[str, list[CallbackDelivery]], a2v_spec: Spec, a2v_client: A2VClient
) -> None:
    video_id, deliveries = callback_run
    rid = "A2V-CALLBACK-DELIVERY"
    check(deliveries, rid, f"no callback arrived for video {video_id} within the wait")
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


@requirement("A2V-CALLBACK-SIGNATURE")
def test_callback_signature(
    callback_run: tuple[str, list[CallbackDelivery]], a2v_options: KitOptions
) -> None:
    video_id, deliveries = callback_run
    check(deliveries, "A2V-CALLBACK-DELIVERY", f"no callback arrived for video {video_id} within the wait")
    for delivery in deliveries:
        problem = verify_signature(delivery, a2v_options.api_key)
        check(problem is None, "A2V-CALLBACK-SIGNATURE", f"callback for {video_id}: {problem}")
