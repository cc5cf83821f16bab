"""partner.audio: the WAV the fixtures hand out by default, and the loopback host that serves it."""

from __future__ import annotations

import io
import wave

import httpx
import pytest

from partner.audio import AudioHost, make_wav


@pytest.mark.parametrize(("seconds", "rate", "frames"), [(1.0, 16000, 16000), (0.25, 8000, 2000)])
def test_make_wav_is_mono_pcm_of_the_asked_length(seconds: float, rate: int, frames: int) -> None:
    with wave.open(io.BytesIO(make_wav(seconds, sample_rate=rate))) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, rate)
        assert audio.getnframes() == frames


def test_make_wav_is_deterministic_and_not_silent() -> None:
    data = make_wav(0.5)

    assert data == make_wav(0.5)
    assert max(data[44:]) > 0


def test_make_wav_refuses_no_duration() -> None:
    with pytest.raises(ValueError, match="seconds must be positive"):
        make_wav(0)


def test_audio_host_serves_what_was_added_and_404_otherwise() -> None:
    host = AudioHost()
    try:
        url = host.add("/clips/a.wav", b"RIFF....", content_type="audio/x-wav")

        found = httpx.get(url)
        missing = httpx.get(f"{host.base_url}/clips/b.wav")
        host.clear()
        cleared = httpx.get(url)
    finally:
        host.close()

    assert url.startswith("http://127.0.0.1:")
    assert (found.status_code, found.content, found.headers["content-type"]) == (
        200,
        b"RIFF....",
        "audio/x-wav",
    )
    assert missing.status_code == 404
    assert cleared.status_code == 404
