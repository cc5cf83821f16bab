"""What a result file really is, read with PyAV (not trusted from headers or the API's fields)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av

__all__ = ["MediaInfo", "probe"]


@dataclass(frozen=True)
class MediaInfo:
    container: str
    video_codec: str | None
    pix_fmt: str | None
    width: int
    height: int
    frames: int
    fps: float
    audio_codec: str | None
    audio_seconds: float
    faststart: bool

    @property
    def video_seconds(self) -> float:
        return self.frames / self.fps if self.fps else 0.0


def _faststart(data: bytes) -> bool:
    """True when the `moov` box comes before `mdat` (a browser can start playing while downloading)."""
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        if kind == b"moov":
            return True
        if kind == b"mdat":
            return False
        if size == 1 and offset + 16 <= len(data):
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            return False
        offset += size
    return False


def probe(data: bytes) -> MediaInfo:
    """Decode every frame of `data` and report its streams. Raises `ValueError` when it is not media."""
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except av.FFmpegError as err:
        raise ValueError(f"not a media file ({len(data)} bytes): {err}") from err
    with container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = 0
        samples = 0
        rate = 0
        streams = [s for s in (video, audio) if s is not None]
        try:
            for frame in container.decode(*streams):
                if isinstance(frame, av.VideoFrame):
                    frames += 1
                elif isinstance(frame, av.AudioFrame):
                    samples += frame.samples
                    rate = frame.sample_rate
        except av.FFmpegError as err:
            raise ValueError(f"the file does not decode to the end: {err}") from err
        fps = float(video.average_rate or video.guessed_rate or 0) if video is not None else 0.0
        return MediaInfo(
            container=container.format.name,
            video_codec=video.codec_context.name if video is not None else None,
            pix_fmt=video.codec_context.pix_fmt if video is not None else None,
            width=video.codec_context.width if video is not None else 0,
            height=video.codec_context.height if video is not None else 0,
            frames=frames,
            fps=fps,
            audio_codec=audio.codec_context.name if audio is not None else None,
            audio_seconds=samples / rate if rate else 0.0,
            faststart=_faststart(data),
        )
