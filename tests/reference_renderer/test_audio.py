from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from a2v_testkit import encode_audio
from reference_renderer import EmptyAudioError, UndecodableAudioError, probe_audio
from reference_renderer.audio import check_duration, iter_chunks, scan_audio
from reference_renderer.encode import write_png
from reference_renderer.errors import AudioTooLongError, AudioTooShortError

if TYPE_CHECKING:
    from pathlib import Path

# Lossy codecs add encoder delay/padding (AAC 1024 samples, MP3 ~1100, Opus 312 + frame rounding).
FORMATS = [
    ("wav", 16_000, 1, 0.001),
    ("wav", 44_100, 2, 0.001),
    ("flac", 8_000, 1, 0.001),
    ("flac", 48_000, 2, 0.001),
    ("mp3", 22_050, 1, 0.08),
    ("mp3", 44_100, 2, 0.08),
    ("ogg", 48_000, 2, 0.03),
    ("ogg", 16_000, 1, 0.03),
    ("m4a", 44_100, 1, 0.08),
    ("m4a", 24_000, 2, 0.08),
]


@pytest.mark.parametrize(("ext", "rate", "channels", "tolerance"), FORMATS)
def test_every_format_probes_and_decodes(
    make_audio, ext: str, rate: int, channels: int, tolerance: float
) -> None:
    path = make_audio(ext, rate, channels, duration=1.5)
    info = scan_audio(path)
    assert info.sample_rate == (48_000 if ext == "ogg" else rate)  # Opus always decodes at 48 kHz
    assert info.channels == channels
    assert probe_audio(path) == pytest.approx(1.5, abs=tolerance)
    decoded = sum(chunk.size for chunk in iter_chunks(path, 16_000)) / 16_000
    assert decoded == pytest.approx(1.5, abs=tolerance)
    assert probe_audio(path.read_bytes()) == pytest.approx(probe_audio(path))


def test_iter_chunks_is_planar_stereo_when_asked(make_audio) -> None:
    path = make_audio("wav", 22_050, 2, duration=0.5)
    chunks = list(iter_chunks(path, 22_050, "stereo", "fltp"))
    assert all(c.ndim == 2 and c.shape[0] == 2 for c in chunks)
    left, right = np.concatenate(chunks, axis=1)
    assert np.allclose(right, left * 0.8, atol=1e-3)  # the fixture writes R = 0.8 L


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rate=st.sampled_from([8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 96_000]),
    channels=st.sampled_from([1, 2]),
    duration=st.floats(min_value=0.05, max_value=3.0),
)
def test_wav_duration_is_exact_for_any_rate_and_layout(
    tmp_path: Path, rate: int, channels: int, duration: float
) -> None:
    samples = np.zeros(round(duration * rate), np.float32)
    path = tmp_path / f"x_{rate}_{channels}.wav"
    encode_audio(samples, rate, path, channels=channels)
    expected = len(samples) / rate
    assert probe_audio(path) == pytest.approx(expected, abs=1e-6)
    counted = sum(c.size for c in iter_chunks(path, 16_000)) / 16_000
    assert counted == pytest.approx(expected, abs=2 / 16_000)


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"", EmptyAudioError, "empty"),
        (
            bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)),
            UndecodableAudioError,
            "audio",
        ),
        (b"hello, this is plainly a text file\n" * 20, UndecodableAudioError, "audio"),
    ],
    ids=["empty", "random", "text"],
)
def test_bad_bytes_raise_typed_errors(data: bytes, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        probe_audio(data)
    with pytest.raises(error):
        list(iter_chunks(data, 16_000))


def test_png_is_not_audio(tmp_path: Path) -> None:
    png = tmp_path / "picture.png"
    write_png(png, np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(UndecodableAudioError, match="no audio stream"):
        probe_audio(png)
    with pytest.raises(UndecodableAudioError, match="no audio stream"):
        probe_audio(png.read_bytes())


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(EmptyAudioError, match="empty"):
        probe_audio(empty)
    with pytest.raises(UndecodableAudioError, match="cannot read"):
        probe_audio(tmp_path / "missing.wav")


def test_wav_with_no_samples_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    fmt = struct.pack("<HHIIHH", 1, 1, 16_000, 32_000, 2, 16)  # PCM, mono, 16 kHz, 16-bit
    path.write_bytes(
        b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data\0\0\0\0"
    )
    with pytest.raises((EmptyAudioError, UndecodableAudioError)):
        probe_audio(path)
    with pytest.raises(EmptyAudioError):
        list(iter_chunks(path, 16_000))


def test_truncated_file_keeps_what_decodes(make_audio) -> None:
    data = make_audio("mp3", 44_100, 1, duration=2.0).read_bytes()
    chunks = list(iter_chunks(data[: len(data) // 2], 16_000))
    assert 0.5 < sum(c.size for c in chunks) / 16_000 < 1.5


@pytest.mark.parametrize(
    ("duration", "low", "high", "error", "message"),
    [
        (612.44, 0.2, 600.0, AudioTooLongError, "audio is 612.4 s long; the limit is 600 s"),
        (0.1, 0.2, 600.0, AudioTooShortError, "audio is 0.100 s long; the minimum is 0.2 s"),
    ],
)
def test_duration_limits_name_the_values(duration, low, high, error, message) -> None:
    with pytest.raises(error, match=message):
        check_duration(duration, low, high)
    check_duration(low, low, high)
    check_duration(5.0, low, None)
