"""Fixtures for the renderer tests: synthetic speech written in every format, and measuring helpers.

Nothing is downloaded: audio is synthesised (``a2v_testkit.speech``) and encoded with PyAV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict

import av
import av.logging
import numpy as np
import pytest

from a2v_testkit import encode_audio, speech_like

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

AudioFactory = "Callable[..., Path]"


@pytest.fixture(scope="session")
def make_audio(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``make_audio(ext="wav", rate=16000, channels=1, duration=2.0, seed=0, silent=False) -> Path``.

    Files are cached per parameter set for the whole session.
    """
    root = tmp_path_factory.mktemp("audio")
    cache: dict[tuple[object, ...], Path] = {}

    def make(
        ext: str = "wav",
        rate: int = 16_000,
        channels: int = 1,
        duration: float = 2.0,
        seed: int = 0,
        silent: bool = False,
    ) -> Path:
        key = (ext, rate, channels, duration, seed, silent)
        if key not in cache:
            if silent:
                samples = np.zeros(round(duration * rate), np.float32)
            else:
                samples, _ = speech_like(duration, rate, seed=seed)
            path = root / f"{'silent' if silent else 'speech'}_{seed}_{rate}_{channels}_{duration}.{ext}"
            encode_audio(samples, rate, path, channels=channels)
            cache[key] = path
        return cache[key]

    return make


class VideoInfo(TypedDict):
    """What `video_info` reads back from an MP4 (durations in seconds; no audio_rate without audio)."""

    container_duration: float
    video_codec: str
    pix_fmt: str | None
    width: int
    height: int
    video_duration: float | None
    audio_codec: str | None
    audio_rate: NotRequired[int]
    frames: int


def video_info(path: Path) -> VideoInfo:
    """Codec names, pixel format, frame count and durations of an MP4, read back with PyAV."""
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        info: VideoInfo = {
            "container_duration": (container.duration or 0) / av.time_base,
            "video_codec": v.codec_context.name,
            "pix_fmt": v.codec_context.pix_fmt,
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "video_duration": None,
            "audio_codec": None,
            "frames": 0,
        }
        if v.duration:
            assert v.time_base is not None  # a demuxed stream always has one
            info["video_duration"] = float(v.duration * v.time_base)
        if container.streams.audio:
            a = container.streams.audio[0]
            info["audio_codec"] = a.codec_context.name
            info["audio_rate"] = a.codec_context.sample_rate
        info["frames"] = sum(1 for _ in container.decode(video=0))
    return info


def decoder_complaints(path: Path) -> list[tuple[int, str, str]]:
    """Warnings and errors FFmpeg logs while decoding every stream of ``path`` (should be none)."""
    av.logging.set_level(av.logging.WARNING)
    try:
        with av.logging.Capture() as logs, av.open(str(path)) as container:
            for _ in container.decode(*container.streams):
                pass
    finally:
        av.logging.set_level(None)
    return list(logs)


def decoded_luma(path: Path) -> np.ndarray:
    """All frames' raw Y planes (limited range, as encoded), ``(frames, h, w)`` uint8."""
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray()[: f.height] for f in container.decode(video=0)])


def top_level_boxes(path: Path) -> list[str]:
    """The MP4's top-level box types in file order (to check ``moov`` precedes ``mdat``)."""
    data = path.read_bytes()
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8].decode("latin-1")
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        boxes.append(kind)
        if size < 8:
            break
        pos += size
    return boxes
