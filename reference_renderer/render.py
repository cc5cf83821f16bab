"""Orchestration: audio -> mouth track -> composed frames -> MP4 (+ mask), streaming in two passes.

Pass 1 decodes the audio once, keeping only a few floats of features per video frame (the mouth track
needs a look at the whole file for its levels, and a frame of look-ahead). Pass 2 decodes it again,
re-encodes it to AAC chunk by chunk and, as the audio advances, composes and encodes the video frames
that belong to it. Memory therefore depends on the frame size, not on the audio length.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

import numpy as np

from .audio import check_duration, iter_chunks, scan_audio
from .characters import get_character
from .compose import Compositor
from .encode import Mp4Writer, aac_layout, aac_rate, atomic_path, write_png
from .errors import AudioTooLongError, RenderError
from .layers import mouth_key
from .lipsync import ANALYSIS_RATE, FeatureExtractor, track_from_features
from .motion import blink_levels, gaze_directions, head_offsets
from .types import RenderOptions, RenderResult

if TYPE_CHECKING:
    from collections.abc import Callable

    from .audio import AudioInfo
    from .characters import Character
    from .layers import LayerCache
    from .types import AudioSource, MouthFrame, PathLike

__all__ = ["analyze_audio", "render", "render_preview"]

# A header duration can be an estimate (MP3 without an index); only trust it this far past the limit.
_HEADER_SLACK = 1.02


def analyze_audio(audio: AudioSource, options: RenderOptions | None = None) -> tuple[float, list[MouthFrame]]:
    """Decode ``audio`` once and return ``(duration, track)``, enforcing the duration limits.

    Raises the ``AudioError`` subclasses. The duration is exact (counted samples), not the header's.
    """
    duration, track, _ = _analyze(audio, options or RenderOptions())
    return duration, track


def _analyze(audio: AudioSource, opts: RenderOptions) -> tuple[float, list[MouthFrame], AudioInfo]:
    info = scan_audio(audio)
    limit = opts.max_duration
    if (
        limit is not None
        and info.header_duration is not None
        and info.header_duration > limit * _HEADER_SLACK
    ):
        raise AudioTooLongError(f"audio is {info.header_duration:.1f} s long; the limit is {limit:g} s")
    extractor = FeatureExtractor(opts.fps)
    counted = 0
    # Past the limit, keep counting (cheap) so the error can say how long the audio is, but give up
    # on absurd lengths (a header-less stream of hours) rather than decode all of it.
    give_up = None if limit is None else (limit + max(60.0, limit)) * ANALYSIS_RATE
    for chunk in iter_chunks(audio, ANALYSIS_RATE):
        counted += chunk.size
        if limit is None or counted <= limit * ANALYSIS_RATE:
            extractor.feed(chunk)
        elif give_up is not None and counted > give_up:
            raise AudioTooLongError(
                f"audio is more than {counted / ANALYSIS_RATE:.0f} s long; the limit is {limit:g} s"
            )
    duration = counted / ANALYSIS_RATE
    check_duration(duration, opts.min_duration, limit)
    frame_count = max(1, round(duration * opts.fps))
    features = extractor.finish(frame_count)
    return duration, track_from_features(features, opts.fps), info


def render(
    audio: AudioSource,
    character: Character | str,
    output: PathLike,
    *,
    mask_output: PathLike | None = None,
    options: RenderOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    layer_cache: LayerCache | None = None,
) -> RenderResult:
    """Render ``audio`` spoken by ``character`` to ``output`` (MP4), and its alpha to ``mask_output``.

    ``progress(frames_done, frames_total)`` is called about once per second of video and at the end.
    A top-level function with plain arguments, so it can run in a ``ProcessPoolExecutor``. A worker
    that renders again and again passes its own ``layer_cache``, so each character is drawn once.

    Example::

        result = render("hello.wav", "eva_a0008", "hello.mp4", mask_output="hello_mask.mp4")
        print(result.duration, result.frame_count)
    """
    opts = options or RenderOptions()
    char = get_character(character)
    for path in (output, mask_output):
        if path is not None:
            _check_output(path)
    if mask_output is not None and os.path.abspath(os.fspath(mask_output)) == os.path.abspath(
        os.fspath(output)
    ):
        raise ValueError(f"mask_output must differ from output, both are {os.fspath(output)!r}")
    _, track, info = _analyze(audio, opts)
    n = len(track)
    rate, layout = aac_rate(info.sample_rate), aac_layout(info.channels)

    eyes = blink_levels(n, opts.fps, char.seed)
    gazes = gaze_directions(n, opts.fps, char.seed)
    speaking = np.array([frame.shape != "X" for frame in track])
    offsets = [(int(dx), int(dy)) for dx, dy in head_offsets(n, opts.fps, char.seed, opts.size, speaking)]
    keys = [mouth_key(frame.shape, frame.openness) for frame in track]
    comp = Compositor(char, opts.size, layer_cache)
    report_every = max(1, opts.fps)

    with contextlib.ExitStack() as stack:
        video_tmp = stack.enter_context(atomic_path(output, suffix=".mp4"))
        mask_tmp = stack.enter_context(atomic_path(mask_output, suffix=".mp4")) if mask_output else None
        video = stack.enter_context(Mp4Writer(video_tmp, opts.size, opts.fps, rate, layout))
        mask = stack.enter_context(Mp4Writer(mask_tmp, opts.size, opts.fps)) if mask_tmp else None

        comp.bind(video.video_planes())
        mask_planes = mask.video_planes() if mask is not None else None
        mask_offset: tuple[int, int] | None = None
        previous: tuple[object, ...] | None = None
        done = 0

        def emit_until(limit: int) -> None:
            nonlocal done, mask_offset, previous
            while done < limit:
                state = (offsets[done], float(eyes[done]), keys[done], float(gazes[done]))
                if state == previous:  # an exact repeat (silence, no blink or move): no composing
                    video.write_video(repeat=True)
                else:
                    comp.frame(*state)
                    video.write_video()
                    previous = state
                if mask is not None and mask_planes is not None:
                    if offsets[done] != mask_offset:  # the mask changes only when the head moves
                        mask_offset = offsets[done]
                        for dst, src in zip(mask_planes, comp.mask(mask_offset), strict=True):
                            dst[...] = src
                        mask.write_video()
                    else:
                        mask.write_video(repeat=True)
                done += 1
                if progress is not None and (done % report_every == 0 or done == n):
                    progress(done, n)

        samples = 0
        for chunk in iter_chunks(audio, rate, layout, "fltp"):
            video.write_audio(chunk)
            samples += chunk.shape[-1]
            emit_until(min(n, int(samples * opts.fps / rate)))
        emit_until(n)
    return RenderResult(duration=n / opts.fps, frame_count=n, track=track)


def render_preview(
    character: Character | str,
    output_png: PathLike,
    size: int = 512,
    *,
    layer_cache: LayerCache | None = None,
) -> None:
    """Write the character's neutral pose (eyes open, mouth closed) as a ``size`` x ``size`` PNG."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 16 or size % 2:
        raise ValueError(f"preview size must be an even integer >= 16, got {size!r}")
    char = get_character(character)
    write_png(output_png, Compositor(char, size, layer_cache).rgb_preview())


def _check_output(path: PathLike) -> None:
    directory = os.path.dirname(os.path.abspath(os.fspath(path)))
    if not os.path.isdir(directory):
        raise RenderError(f"output directory {directory!r} does not exist")
