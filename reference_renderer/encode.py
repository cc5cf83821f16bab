"""Encoding: H.264/yuv420p MP4 (+faststart) with AAC audio, the mask video, and preview PNGs.

Outputs are written atomically: into a hidden temporary file in the destination directory, renamed
over the destination only when complete, and removed on any failure. A crash never leaves a half
file at the requested path.

Encoder settings, and why:

* ``libx264`` ``preset=ultrafast``: frames are flat cartoon colours that mostly repeat, so the fast
  preset's missing tools (CABAC, B-frames, sub-pixel search) cost little size and no visible quality at
  ``crf=20``, while it is 2-4x faster than ``veryfast`` on one core.
* ``threads=1``: the renderer's budget is one core, and single-threaded x264 is bit-exact
  (deterministic output for the same input).
* a keyframe every 10 s (``g``): the frames between keyframes are nearly static and almost free,
  while a keyframe costs a full picture; browsers still seek within a fraction of a second.
* streams tagged BT.709 limited range, matching ``yuv.rgb_to_yuv420``.
* a frame that repeats the previous one exactly (``write_video(repeat=True)``) bypasses x264 and is
  written as an all-skip P frame (``h264.py``): x264 costs ~0.3 ms per 512x512 frame even when
  nothing changed, which is most mask frames and every frame of a silent, still stretch.
* AAC (FFmpeg's native encoder, ``fast`` coder, 64 kbit/s per channel), mono or stereo as the input,
  at the input's rate if AAC supports it.
"""

from __future__ import annotations

import collections
import contextlib
import os
import tempfile
from fractions import Fraction
from typing import TYPE_CHECKING, Self

import av
import numpy as np
from av.video.frame import PictureType

from .h264 import SkipWriter, parse_params

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

    from .types import PathLike

__all__ = ["AAC_RATES", "Mp4Writer", "aac_layout", "aac_rate", "atomic_path", "write_png", "x264_options"]

#: Sample rates AAC-LC signals directly (up to 48 kHz; higher rates only waste bits on speech).
AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


def x264_options(fps: int) -> dict[str, str]:
    """The libx264 options used for the video and the mask (and by the benchmark's ceiling)."""
    return {"preset": "ultrafast", "qp": "20", "threads": "1", "g": str(10 * fps)}


def aac_rate(rate: int) -> int:
    """The AAC output rate for an input rate: the same if supported, else the next higher (max 48 kHz)."""
    return next((r for r in AAC_RATES if r >= rate), AAC_RATES[-1])


def aac_layout(channels: int) -> str:
    return "mono" if channels <= 1 else "stereo"


@contextlib.contextmanager
def atomic_path(path: PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success, delete it on error."""
    final = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(final) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(final)}.", suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are meant to be served and shared
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Mp4Writer:
    """One MP4 file: an H.264 video stream and optionally an AAC audio stream, muxed as they come.

    The muxer interleaves packets by time, so callers feed audio and video in roughly the same order
    they are played (``render`` keeps video at most one audio chunk behind).

    Example::

        with Mp4Writer(tmp_path, size=512, fps=25, audio_rate=44100, audio_layout="mono") as out:
            out.write_audio(chunk)      # (channels, samples) float32
            out.write_video(yuv420p)   # (size*3/2, size) uint8
    """

    def __init__(
        self,
        path: str,
        size: int,
        fps: int,
        audio_rate: int | None = None,
        audio_layout: str = "mono",
        skip_repeats: bool = True,
    ) -> None:
        self._container = av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"})
        try:
            video = self._container.add_stream("libx264", rate=fps)
            video.width = video.height = size
            video.pix_fmt = "yuv420p"
            ctx = video.codec_context
            ctx.time_base = Fraction(1, fps)
            ctx.options = x264_options(fps)
            ctx.colorspace = 1  # BT.709
            ctx.color_primaries = 1
            ctx.color_trc = 1
            ctx.color_range = 1  # limited ("tv")
            self._video = video
            self._audio = None
            if audio_rate is not None:
                audio = self._container.add_stream("aac", rate=audio_rate, layout=audio_layout)
                channels = 1 if audio_layout == "mono" else 2
                audio.bit_rate = channels * min(64_000, audio_rate * 4)
                # The "fast" coder is FFmpeg's well-tested former default: 3x cheaper than twoloop,
                # and at 64 kbit/s per channel indistinguishable on speech.
                audio.codec_context.options = {"aac_coder": "fast"}
                self._audio = audio
                self._audio_layout = audio_layout
                self._audio_rate = audio_rate
        except BaseException:
            self._container.close()
            raise
        self._frame = av.VideoFrame(size, size, "yuv420p")
        self._frames = 0
        self._samples = 0
        self._fps = fps
        self._gop = 10 * fps  # a keyframe at least this often, counting repeated frames too
        self._last_sent_key = -self._gop
        self._pending_real: collections.deque[int] = collections.deque()  # sent, packet not out yet
        self._skips_after: dict[int, list[int]] = {}
        self._want_skips = skip_repeats
        self._skips: SkipWriter | None = None  # set up once the encoder has produced its SPS/PPS
        self.skipped = 0

    @property
    def frames(self) -> int:
        return self._frames

    def video_planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Writable Y, U, V views of the frame the next ``write_video()`` encodes.

        Composing straight into these saves a full-frame copy per frame; the encoder copies the picture
        on submission, so the same frame can be refilled and sent again.
        """
        out = []
        for plane in self._frame.planes:
            arr = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
            out.append(arr[:, : plane.width])
        return out[0], out[1], out[2]

    def write_video(self, yuv: np.ndarray | None = None, *, repeat: bool = False) -> None:
        """Encode the current frame; ``yuv`` (a ``(size*3/2, size)`` yuv420p array) replaces it first.

        ``repeat=True`` promises the picture equals the previous one: it is then written as an
        all-skip frame (see ``h264.py``) without running the encoder, unless a keyframe is due.
        """
        index = self._frames
        self._frames += 1
        if repeat and yuv is None and self._skips is not None and index - self._last_sent_key < self._gop:
            # The encoder may still hold the previous picture (it has a frame of delay), so the skip
            # frame waits until that picture's packet is out: stream order must be display order.
            if self._pending_real:
                self._skips_after[self._pending_real[-1]].append(index)
            else:
                self._mux_skip(index)
            self.skipped += 1
            return
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p") if yuv is not None else self._frame
        frame.pts = index
        self._pending_real.append(index)
        self._skips_after[index] = []
        keyframe_due = index - self._last_sent_key >= self._gop
        if keyframe_due:
            self._last_sent_key = index
        frame.pict_type = PictureType.I if keyframe_due else PictureType.NONE
        self._mux_video(self._video.encode(frame))

    def _mux_skip(self, index: int) -> None:
        assert self._skips is not None
        packet = av.Packet(self._skips.skip_frame())
        packet.pts = packet.dts = index
        packet.duration = 1
        packet.time_base = Fraction(1, self._fps)
        packet.stream = self._video
        self._container.mux(packet)

    def _mux_video(self, packets: list[av.Packet]) -> None:
        if self._want_skips and self._skips is None and packets:
            self._want_skips = False  # decide once, from the encoder's parameter sets
            params = parse_params(bytes(self._video.codec_context.extradata or b""))
            if params.supported:
                self._skips = SkipWriter(params)
        for packet in packets:
            pts = packet.pts  # in frames; mux() rescales the packet to the stream's time base
            if packet.is_keyframe and pts is not None:
                self._last_sent_key = max(self._last_sent_key, pts)
            if self._skips is not None:
                rewritten = av.Packet(self._skips.rewrite(bytes(packet)))
                rewritten.pts, rewritten.dts = packet.pts, packet.dts
                rewritten.duration = packet.duration
                rewritten.time_base = packet.time_base
                rewritten.is_keyframe = packet.is_keyframe
                rewritten.stream = self._video
                packet = rewritten
            self._container.mux(packet)
            if self._pending_real and pts == self._pending_real[0]:
                done = self._pending_real.popleft()
                for skipped in self._skips_after.pop(done, []):
                    self._mux_skip(skipped)

    def write_audio(self, planar: np.ndarray) -> None:
        """Encode float32 samples shaped ``(channels, n)`` (or ``(n,)`` for mono)."""
        if self._audio is None:
            raise ValueError("this writer has no audio stream")
        data = np.ascontiguousarray(planar.reshape(1, -1) if planar.ndim == 1 else planar, dtype=np.float32)
        if data.shape[1] == 0:
            return
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout=self._audio_layout)
        frame.sample_rate = self._audio_rate
        frame.pts = self._samples
        frame.time_base = Fraction(1, self._audio_rate)
        self._samples += data.shape[1]
        self._container.mux(self._audio.encode(frame))

    def close(self) -> None:
        """Flush the encoders and finish the file (moov moved to the front by +faststart)."""
        try:
            self._mux_video(self._video.encode(None))
            if self._audio is not None:
                self._container.mux(self._audio.encode(None))
        finally:
            self._container.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._container.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_png(path: PathLike, rgb: np.ndarray) -> None:
    """Write uint8 RGB ``(h, w, 3)`` as a PNG, atomically, with FFmpeg's PNG encoder."""
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height = rgb.shape[1], rgb.shape[0]
    codec.pix_fmt = "rgb24"
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb, np.uint8), format="rgb24")
    packets = [*codec.encode(frame), *codec.encode(None)]
    with atomic_path(path, suffix=".png") as tmp, open(tmp, "wb") as fh:
        for packet in packets:
            fh.write(bytes(packet))
