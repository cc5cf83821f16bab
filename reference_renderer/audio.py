"""Audio input: open anything PyAV decodes, probe its duration, stream it as resampled chunks.

Decoding is streaming on purpose: a 10-minute file is never held as one array. Callers iterate
``iter_chunks`` twice if they need two passes (analysis, then muxing) rather than keeping samples.
All PyAV failures become the typed errors of ``errors.py`` with the cause chained.
"""

from __future__ import annotations

import io
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import av
import av.error

from .errors import AudioTooLongError, AudioTooShortError, EmptyAudioError, UndecodableAudioError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    from av.audio.stream import AudioStream
    from av.container import InputContainer

    from .types import AudioSource

__all__ = ["AudioInfo", "check_duration", "iter_chunks", "open_audio", "probe_audio", "scan_audio"]

#: Sample rates and channel counts a decodable input may declare (the rest is hostile or broken).
MIN_SAMPLE_RATE = 1000
MAX_SAMPLE_RATE = 384_000
MAX_CHANNELS = 8

#: Decoding more than this many consecutive corrupt packets means the input is not usable audio.
_MAX_BAD_PACKETS = 50


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What the container header says: sample rate, channel count and (maybe) the duration."""

    sample_rate: int
    channels: int
    header_duration: float | None
    codec: str


def _describe(source: AudioSource) -> str:
    if isinstance(source, bytes | bytearray | memoryview):
        return f"audio data ({len(source)} bytes)"
    return f"audio file {os.fspath(source)!r}"


def _reason(err: Exception) -> str:
    """FFmpeg's reason alone: its str() adds "[Errno <code>]" and the path, which the message names."""
    return getattr(err, "strerror", None) or str(err)


@contextmanager
def open_audio(source: AudioSource) -> Iterator[tuple[InputContainer, AudioStream]]:
    """Open ``source`` and yield the container and its first audio stream.

    Raises ``EmptyAudioError`` for zero bytes and ``UndecodableAudioError`` when the data is not a
    container PyAV understands or holds no audio stream (e.g. a PNG).
    """
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise EmptyAudioError("audio data is empty (0 bytes)")
        target: io.BytesIO | str = io.BytesIO(bytes(source))
    else:
        path = os.fspath(source)
        try:
            size = os.path.getsize(path)
        except OSError as err:
            raise UndecodableAudioError(f"cannot read audio file {path!r}: {err.strerror}") from err
        if size == 0:
            raise EmptyAudioError(f"audio file {path!r} is empty (0 bytes)")
        target = path
    try:
        container = av.open(target, mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as err:
        raise UndecodableAudioError(
            f"{_describe(source)} is not a decodable audio file: {_reason(err)}"
        ) from err
    try:
        if not container.streams.audio:
            kinds: list[str] = sorted({str(s.type) for s in container.streams}) or ["none"]
            raise UndecodableAudioError(
                f"{_describe(source)} has no audio stream (format {container.format.name!r}, "
                f"streams: {', '.join(kinds)})"
            )
        stream = container.streams.audio[0]
        if stream.codec_context is None or not stream.codec_context.sample_rate:
            raise UndecodableAudioError(f"{_describe(source)} has an audio stream PyAV cannot decode")
        ctx = stream.codec_context
        # A header may declare anything: 2^31-1 Hz or 64 channels would make the resampler allocate
        # gigabytes. Real speech stays far inside these bounds.
        if not MIN_SAMPLE_RATE <= ctx.sample_rate <= MAX_SAMPLE_RATE:
            raise UndecodableAudioError(
                f"{_describe(source)} declares {ctx.sample_rate} Hz; supported: "
                f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
            )
        if int(ctx.channels) > MAX_CHANNELS:
            raise UndecodableAudioError(
                f"{_describe(source)} has {ctx.channels} channels; at most {MAX_CHANNELS} are supported"
            )
        yield container, stream
    finally:
        container.close()


def _info(stream: AudioStream, container: InputContainer) -> AudioInfo:
    duration: float | None = None
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None and container.duration > 0:
        duration = container.duration / av.time_base
    ctx = stream.codec_context
    return AudioInfo(
        sample_rate=int(ctx.sample_rate),
        channels=max(1, int(ctx.channels)),
        header_duration=duration,
        codec=ctx.name,
    )


def _decoded_frames(container: InputContainer, stream: AudioStream, what: str) -> Iterator[av.AudioFrame]:
    """Decode frames, tolerating a few corrupt packets (common at the end of real files)."""
    bad = 0
    decoded_any = False
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError) as err:
                bad += 1
                if bad > _MAX_BAD_PACKETS or (not decoded_any and bad > 5):
                    raise UndecodableAudioError(f"{what} is corrupt: {_reason(err)}") from err
                continue
            for frame in frames:
                if frame.samples:
                    decoded_any = True
                    bad = 0
                    yield frame
    except av.error.FFmpegError as err:
        if not decoded_any:
            raise UndecodableAudioError(f"{what} cannot be decoded: {_reason(err)}") from err
        # A truncated tail after good audio: keep what decoded, as players do.


def probe_audio(audio: AudioSource) -> float:
    """Return the duration of ``audio`` in seconds, cheaply.

    Reads the header duration and decodes only the first frame to prove the data is real audio; when
    the header has no duration, decodes the whole stream (still streaming) to count samples.

    Example::

        seconds = probe_audio("speech.mp3")
    """
    what = _describe(audio)
    with open_audio(audio) as (container, stream):
        info = _info(stream, container)
        frames = _decoded_frames(container, stream, what)
        first = next(frames, None)
        if first is None:
            raise EmptyAudioError(f"{what} contains no audio samples")
        if info.header_duration is not None:
            return info.header_duration
        total = first.samples / first.sample_rate
        for frame in frames:
            total += frame.samples / frame.sample_rate
        return total


def check_duration(duration: float, min_duration: float, max_duration: float | None) -> None:
    """Raise the typed error when ``duration`` is outside the accepted range."""
    if max_duration is not None and duration > max_duration:
        raise AudioTooLongError(f"audio is {duration:.1f} s long; the limit is {max_duration:g} s")
    if duration < min_duration:
        raise AudioTooShortError(f"audio is {duration:.3f} s long; the minimum is {min_duration:g} s")


def scan_audio(audio: AudioSource) -> AudioInfo:
    """Open ``audio`` and return its header information (no decoding)."""
    with open_audio(audio) as (container, stream):
        return _info(stream, container)


def iter_chunks(
    audio: AudioSource,
    rate: int,
    layout: str = "mono",
    fmt: str = "flt",
) -> Iterator[np.ndarray]:
    """Decode ``audio`` and yield it resampled to ``rate``/``layout``/``fmt`` in decoder-sized chunks.

    Packed formats (``flt``, ``s16``) yield arrays of shape ``(samples * channels,)`` interleaved;
    planar formats (``fltp``) yield ``(channels, samples)``. Chunks are small (one decoded frame), so
    memory stays flat whatever the length. Raises ``EmptyAudioError`` if nothing decodes.
    """
    what = _describe(audio)
    resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate)
    produced = False
    with open_audio(audio) as (container, stream):
        for frame in _decoded_frames(container, stream, what):
            frame.pts = None  # the resampler would otherwise reject non-monotonic timestamps
            for out in resampler.resample(frame):
                produced = True
                yield _frame_array(out)
        for out in resampler.resample(None):
            produced = True
            yield _frame_array(out)
    if not produced:
        raise EmptyAudioError(f"{what} contains no audio samples")


def _frame_array(frame: av.AudioFrame) -> np.ndarray:
    arr = frame.to_ndarray()
    if arr.ndim == 2 and arr.shape[0] == 1:
        return arr[0]
    return arr
