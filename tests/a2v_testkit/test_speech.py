"""a2v_testkit.speech: deterministic speech-like audio that decodes back in every format."""

from __future__ import annotations

import io
import wave
from typing import TYPE_CHECKING

import av
import numpy as np
import pytest

from a2v_testkit.speech import FORMATS, encode, encode_audio, speech, speech_like, speech_wav

if TYPE_CHECKING:
    from pathlib import Path


def _decode(data: bytes) -> tuple[int, int, float]:
    """(channels, rate, seconds) a decoder gets from `data`."""
    samples = 0
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.audio[0]
        channels, rate = stream.codec_context.channels, stream.codec_context.sample_rate
        for frame in container.decode(stream):
            samples += frame.samples
    return channels, rate, samples / rate


def test_the_signal_has_speech_and_silence_where_the_script_says() -> None:
    samples, script = speech_like(3.0, 16_000, seed=4)

    assert samples.dtype == np.float32
    assert len(samples) == 48_000
    assert float(np.abs(samples).max()) == pytest.approx(0.7, abs=1e-3)
    kinds = {segment.kind for segment in script}
    assert {"silence", "vowel"} <= kinds
    lead = script[0]
    assert lead.kind == "silence"
    assert not samples[: int(lead.end * 16_000)].any()
    vowel = next(s for s in script if s.kind == "vowel")
    middle = samples[int(vowel.start * 16_000) : int(vowel.end * 16_000)]
    assert float(np.sqrt(np.mean(middle**2))) > 0.05


def test_the_seed_decides_the_signal() -> None:
    first, _ = speech_like(1.0, seed=1)
    again, _ = speech_like(1.0, seed=1)
    other, _ = speech_like(1.0, seed=2)

    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("channels", [1, 2])
def test_every_format_decodes_to_what_was_asked(fmt: str, channels: int) -> None:
    rates = FORMATS[fmt].rates
    rate = 16_000 if rates is None or 16_000 in rates else 24_000
    data = speech(fmt, 0.8, rate=rate, channels=channels, seed=3)

    got_channels, got_rate, seconds = _decode(data)

    decoded_rate = 48_000 if FORMATS[fmt].codec == "libopus" else rate  # Opus always decodes at 48 kHz
    assert (got_channels, got_rate) == (channels, decoded_rate)
    # Exact, priming trimmed; except AAC in MP4, whose priming a plain decode keeps (at most two frames).
    assert seconds == pytest.approx(0.8, abs=2048 / rate if fmt == "m4a" else 0.001)
    assert data == speech(fmt, 0.8, rate=rate, channels=channels, seed=3)  # byte for byte


@pytest.mark.parametrize(
    ("fmt", "rate", "channels", "message"),
    [
        ("aiff", 16_000, 1, "unknown audio format 'aiff'"),
        ("ogg", 44_100, 1, "libopus cannot encode at 44100 Hz"),
        ("wav", 16_000, 3, "channels must be 1 or 2, got 3"),
    ],
)
def test_impossible_requests_are_refused(fmt: str, rate: int, channels: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode(np.zeros(100, dtype=np.float32), rate, fmt, channels)


def test_encode_audio_picks_the_format_from_the_suffix(tmp_path: Path) -> None:
    samples, _ = speech_like(0.5, 22_050)
    encode_audio(samples, 22_050, tmp_path / "a.mp3")

    assert (tmp_path / "a.mp3").read_bytes() == encode(samples, 22_050, "mp3")


@pytest.mark.parametrize(("seconds", "rate", "frames"), [(1.0, 16000, 16000), (0.25, 8000, 2000)])
def test_speech_wav_is_plain_mono_pcm(seconds: float, rate: int, frames: int) -> None:
    with wave.open(io.BytesIO(speech_wav(seconds, rate))) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, rate)
        assert audio.getnframes() == frames
