"""Benchmark the reference renderer on one CPU core. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/render.py            # 60 s of speech, 512x512 @ 25 fps, + 10 min RSS run
    .venv/bin/python benchmarks/render.py --quick    # skip the 10-minute run

Figures:
* render real-time factor (audio seconds per wall second) with and without the mask video;
* the encode-only ceiling: the very same yuv420p frames, made ready beforehand, pushed through the
  same libx264 settings (video alone, and video + mask), plus AAC alone;
* peak RSS of a full render (video + mask) of 1 minute and of 10 minutes of audio, each in a fresh
  subprocess, to show memory does not grow with the audio length. The child reports ``ru_maxrss``
  and ``VmHWM``; they agree when the children are started while this process is still small (Linux
  carries the parent's peak into a forked child's ``ru_maxrss``), which is why they run first.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import av  # noqa: E402
import numpy as np  # noqa: E402

from a2v_testkit import encode_audio, speech_like  # noqa: E402
from reference_renderer import RenderOptions, load_characters, render  # noqa: E402
from reference_renderer.compose import Compositor  # noqa: E402
from reference_renderer.encode import x264_options  # noqa: E402
from reference_renderer.layers import LayerCache, mouth_key  # noqa: E402
from reference_renderer.motion import blink_levels, gaze_directions, head_offsets  # noqa: E402
from reference_renderer.render import analyze_audio  # noqa: E402
from reference_renderer.yuv import planes_to_array  # noqa: E402

_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from reference_renderer import RenderOptions, render
t, c = time.perf_counter(), time.process_time()
r = render({audio!r}, {character!r}, {out!r}, mask_output={mask!r},
           options=RenderOptions(size={size}, fps={fps}, max_duration=None))
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")]
print(json.dumps({{"seconds": time.perf_counter() - t, "cpu": time.process_time() - c,
                  "frames": r.frame_count,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "hwm_mb": int(hwm[0].split()[1]) / 1024 if hwm else None}}))
"""


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})


Timing = tuple[float, float]  # (wall seconds, CPU seconds of this process)


def best(runs: list[Timing]) -> Timing:
    return min(r[0] for r in runs), min(r[1] for r in runs)


def timed(fn, *args, **kwargs) -> Timing:  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu


def timed_render(
    audio: Path, character: str, out: Path, mask: Path | None, opts: RenderOptions, layers: LayerCache
) -> Timing:
    """One render, as a render worker does it: with the worker's layer cache (warmed by a first render)."""
    return timed(render, audio, character, out, mask_output=mask, options=opts, layer_cache=layers)


def ready_frames(
    audio: Path, character: str, opts: RenderOptions, layers: LayerCache
) -> tuple[list[av.VideoFrame], list[av.VideoFrame]]:
    """The render's exact video and mask frames as ready ``VideoFrame`` objects (deduplicated)."""
    char = load_characters()[character]
    _, track = analyze_audio(audio, opts)
    n = len(track)
    eyes = blink_levels(n, opts.fps, char.seed)
    gazes = gaze_directions(n, opts.fps, char.seed)
    speaking = np.array([f.shape != "X" for f in track])
    offsets = [(int(x), int(y)) for x, y in head_offsets(n, opts.fps, char.seed, opts.size, speaking)]
    comp = Compositor(char, opts.size, layers)
    video_cache: dict[tuple[object, ...], av.VideoFrame] = {}
    mask_cache: dict[tuple[int, int], av.VideoFrame] = {}
    video, masks = [], []
    for i, frame in enumerate(track):
        key = (offsets[i], float(eyes[i]), mouth_key(frame.shape, frame.openness), float(gazes[i]))
        if key not in video_cache:
            planes = comp.frame(*key)  # type: ignore[arg-type]
            video_cache[key] = av.VideoFrame.from_ndarray(planes_to_array(planes), format="yuv420p")
        if offsets[i] not in mask_cache:
            mask = planes_to_array(comp.mask(offsets[i]))
            mask_cache[offsets[i]] = av.VideoFrame.from_ndarray(mask, format="yuv420p")
        video.append(video_cache[key])
        masks.append(mask_cache[offsets[i]])
    return video, masks


def encode_only(frames: list[av.VideoFrame], opts: RenderOptions) -> Timing:
    """Seconds to push ready frames through the renderer's libx264 settings into an in-memory MP4."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=opts.fps)
        stream.width = stream.height = opts.size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, opts.fps)
        stream.codec_context.options = x264_options(opts.fps)
        wall, cpu = time.perf_counter(), time.process_time()
        for i, frame in enumerate(frames):
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        return time.perf_counter() - wall, time.process_time() - cpu


def aac_only(samples: np.ndarray, rate: int) -> Timing:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate, layout="mono")
        stream.bit_rate = 64_000
        stream.codec_context.options = {"aac_coder": "fast"}
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(samples), 4096):
            frame = av.AudioFrame.from_ndarray(samples[None, i : i + 4096], format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        return time.perf_counter() - wall, time.process_time() - cpu


def write_repeated_wav(samples: np.ndarray, rate: int, reps: int, path: Path) -> None:
    """``samples`` repeated ``reps`` times as 16-bit WAV, streamed (this process must stay small)."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)[None, :]
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=rate, layout="mono")
        for r in range(reps):
            for i in range(0, pcm.shape[1], 8192):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(pcm[:, i : i + 8192]), format="s16", layout="mono"
                )
                frame.sample_rate = rate
                frame.pts = r * pcm.shape[1] + i
                container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def child_render(audio: Path, character: str, tmp: Path, opts: RenderOptions) -> dict[str, float]:
    code = _CHILD.format(
        root=str(ROOT),
        audio=str(audio),
        character=character,
        out=str(tmp / "child.mp4"),
        mask=str(tmp / "child_mask.mp4"),
        size=opts.size,
        fps=opts.fps,
    )
    pin = ["taskset", "-c", "0"] if os.path.exists("/usr/bin/taskset") else []
    proc = subprocess.run([*pin, sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--long-seconds", type=float, default=600.0)
    parser.add_argument("--rate", type=int, default=44_100, help="sample rate of the test WAV (mono)")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--character", default="eva_a0008")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    parser.add_argument("--quick", action="store_true", help="skip the 10-minute RSS run")
    args = parser.parse_args()
    pin_to_one_core()
    opts = RenderOptions(size=args.size, fps=args.fps, max_duration=None)

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        samples, _ = speech_like(args.seconds, args.rate, seed=1)
        audio = tmp / "speech.wav"
        encode_audio(samples, args.rate, audio)
        secs = len(samples) / args.rate
        print(
            f"input: {secs:.0f} s speech-like mono WAV @ {args.rate} Hz; output {args.size}x{args.size} "
            f"@ {args.fps} fps; libx264 {x264_options(args.fps)}; one core (affinity {{0}})"
        )

        short = child_render(audio, args.character, tmp, opts)
        print(
            f"peak RSS, {secs / 60:.0f} min audio (video + mask, subprocess): ru_maxrss "
            f"{short['maxrss_mb']:.0f} MB, VmHWM {short['hwm_mb']:.0f} MB; wall {short['seconds']:.2f} s, "
            f"cpu {short['cpu']:.2f} s (a cold process: includes drawing the character)"
        )
        if not args.quick:
            reps = int(np.ceil(args.long_seconds / secs))
            long_audio = tmp / "long.wav"
            write_repeated_wav(samples, args.rate, reps, long_audio)
            long = child_render(long_audio, args.character, tmp, opts)
            print(
                f"peak RSS, {args.long_seconds / 60:.0f} min audio (video + mask, subprocess): ru_maxrss "
                f"{long['maxrss_mb']:.0f} MB, VmHWM {long['hwm_mb']:.0f} MB; wall {long['seconds']:.2f} s, "
                f"cpu {long['cpu']:.2f} s ({args.long_seconds / long['cpu']:.1f}x real time)"
            )

        layers = LayerCache()  # this process plays a render worker: it owns the layer cache
        timed_render(audio, args.character, tmp / "warm.mp4", None, opts, layers)  # imports, drawing
        full = best(
            [
                timed_render(audio, args.character, tmp / "v.mp4", tmp / "m.mp4", opts, layers)
                for _ in range(args.repeat)
            ]
        )
        video_only = best(
            [
                timed_render(audio, args.character, tmp / "v.mp4", None, opts, layers)
                for _ in range(args.repeat)
            ]
        )
        video, masks = ready_frames(audio, args.character, opts, layers)
        ceil_video = best([encode_only(video, opts) for _ in range(args.repeat)])
        ceil_mask = best([encode_only(masks, opts) for _ in range(args.repeat)])
        aac = best([aac_only(samples, args.rate) for _ in range(args.repeat)])
        both = (ceil_video[0] + ceil_mask[0], ceil_video[1] + ceil_mask[1])
        n = len(video)

        def line(label: str, t: Timing) -> str:
            return (
                f"  {label:<44} wall {t[0]:6.3f} s ({secs / t[0]:5.1f}x real time)"
                f"   cpu {t[1]:6.3f} s ({secs / t[1]:5.1f}x, {n / t[1]:5.0f} frames/s)"
            )

        print(f"frames: {n}  (best of {args.repeat}; cpu = this process's CPU time on its one core)")
        print(line("render, video only", video_only))
        print(line("render, video + mask", full))
        print(line("ceiling: x264 of the ready video frames", ceil_video))
        print(line("ceiling: x264 of ready video + mask frames", both))
        print(line("AAC encode of the audio alone", aac))
        for k, label in ((0, "wall"), (1, "cpu")):
            v, m = video_only[k], full[k]
            print(
                f"  render / encode-only ceiling ({label}): video only {v / ceil_video[k]:.2f}x "
                f"(vs x264 + AAC {v / (ceil_video[k] + aac[k]):.2f}x); "
                f"video + mask {m / both[k]:.2f}x (vs both x264 + AAC {m / (both[k] + aac[k]):.2f}x)"
            )


if __name__ == "__main__":
    main()
