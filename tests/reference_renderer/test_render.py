from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from a2v_testkit import encode_audio, speech_like
from reference_renderer import (
    AudioTooLongError,
    AudioTooShortError,
    EmptyAudioError,
    LayerCache,
    RenderError,
    RenderOptions,
    UndecodableAudioError,
    load_characters,
    render,
    render_preview,
)
from reference_renderer.draw import draw_background, draw_character, layout
from reference_renderer.encode import write_png
from reference_renderer.lipsync import ANALYSIS_RATE

from .conftest import decoded_luma, decoder_complaints, top_level_boxes, video_info

if TYPE_CHECKING:
    from pathlib import Path

SIZE = 256
FPS = 25
DURATION = 8.0


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    samples, _ = speech_like(DURATION, 16_000, seed=11)
    path = tmp_path_factory.mktemp("render") / "speech.wav"
    encode_audio(samples, 16_000, path)
    return path, samples


@pytest.fixture(scope="module")
def rendered(speech_wav, tmp_path_factory: pytest.TempPathFactory):
    path, _ = speech_wav
    out = tmp_path_factory.mktemp("out")
    calls: list[tuple[int, int]] = []
    result = render(
        path,
        "eva_a0008",
        out / "video.mp4",
        mask_output=out / "mask.mp4",
        options=RenderOptions(size=SIZE, fps=FPS),
        progress=lambda done, total: calls.append((done, total)),
    )
    return result, out / "video.mp4", out / "mask.mp4", calls


def test_result_and_streams(rendered) -> None:
    result, video, mask, _ = rendered
    assert result.frame_count == DURATION * FPS
    assert result.duration == pytest.approx(DURATION)
    assert len(result.track) == result.frame_count
    info = video_info(video)
    assert info["video_codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"
    assert info["audio_codec"] == "aac"
    assert (info["width"], info["height"]) == (SIZE, SIZE)
    assert info["frames"] == result.frame_count
    assert info["video_duration"] is not None
    assert abs(info["video_duration"] - DURATION) <= 1 / FPS
    assert abs(info["container_duration"] - DURATION) <= 1 / FPS + 0.05  # AAC priming/padding
    boxes = top_level_boxes(video)
    assert boxes.index("moov") < boxes.index("mdat")
    mask_info = video_info(mask)
    assert (mask_info["video_codec"], mask_info["pix_fmt"]) == ("h264", "yuv420p")
    assert mask_info["frames"] == info["frames"]
    assert decoder_complaints(video) == []
    assert decoder_complaints(mask) == []


def test_progress_reports_up_to_the_total(rendered) -> None:
    result, _, _, calls = rendered
    assert calls[-1] == (result.frame_count, result.frame_count)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) >= DURATION - 1


def mouth_darkness(frames: np.ndarray) -> np.ndarray:
    """Per frame, the number of dark (mouth-interior) pixels around the mouth, head motion included."""
    x0, y0, x1, y1 = layout(load_characters()["eva_a0008"], SIZE).mouth_rect
    m = 6
    region = frames[:, y0 - m : y1 + m, x0 - m : x1 + m].astype(int)
    return (region < 45).sum(axis=(1, 2))  # the mouth interior is Y~35; the closed lip line Y>=50


def test_repeated_frames_are_exact_repeats(rendered) -> None:
    """Frames with the same mouth, eyes and head as the previous one decode to the same picture."""
    _, video, mask, _ = rendered
    for frames in (decoded_luma(video), decoded_luma(mask)):
        same = sum(np.array_equal(frames[i], frames[i - 1]) for i in range(1, len(frames)))
        assert same > 0.2 * len(frames)


def test_silence_closed_speech_open_in_decoded_video(rendered) -> None:
    result, video, _, _ = rendered
    dark = mouth_darkness(decoded_luma(video))
    closed = np.array([f.shape == "X" for f in result.track])
    wide = np.array([f.shape in "CD" and f.openness > 0.5 for f in result.track])
    assert closed.sum() > 20
    assert wide.sum() > 20
    assert (dark[closed] == 0).mean() > 0.95
    assert (dark[wide] > 20).mean() > 0.95


def test_mouth_is_in_sync_with_the_loudness(rendered, speech_wav) -> None:
    """Mouth opening measured in the decoded video correlates best with the audio at lag 0 (+-1)."""
    _, samples = speech_wav
    _, video, _, _ = rendered
    dark = mouth_darkness(decoded_luma(video)).astype(float)
    hop = 16_000 // FPS
    env = np.sqrt(np.mean(samples[: len(dark) * hop].reshape(-1, hop).astype(float) ** 2, axis=1))
    lags = range(-4, 5)

    def corr(lag: int) -> float:
        a, b = (dark[lag:], env[: len(env) - lag]) if lag >= 0 else (dark[:lag], env[-lag:])
        return float(np.corrcoef(a, b)[0, 1])

    scores = {lag: corr(lag) for lag in lags}
    best = max(scores, key=scores.__getitem__)
    assert abs(best) <= 1, scores
    assert scores[best] > 0.6


def test_same_input_same_frames(rendered, speech_wav, tmp_path: Path) -> None:
    path, _ = speech_wav
    _, video, _, _ = rendered
    render(path, "eva_a0008", tmp_path / "again.mp4", options=RenderOptions(size=SIZE, fps=FPS))
    np.testing.assert_array_equal(decoded_luma(video), decoded_luma(tmp_path / "again.mp4"))
    assert (tmp_path / "again.mp4").read_bytes() == video.read_bytes()


def test_a_layer_cache_changes_nothing_but_the_drawing_work(rendered, speech_wav, tmp_path: Path) -> None:
    """Renders through a worker's warm cache are byte-identical to a cold render (and draw nothing)."""
    path, _ = speech_wav
    _, video, mask, _ = rendered
    cache = LayerCache()
    opts = RenderOptions(size=SIZE, fps=FPS)
    for name in ("cold", "warm"):
        render(
            path,
            "eva_a0008",
            tmp_path / f"{name}.mp4",
            mask_output=tmp_path / f"{name}_m.mp4",
            options=opts,
            layer_cache=cache,
        )
        assert (tmp_path / f"{name}.mp4").read_bytes() == video.read_bytes()
        assert (tmp_path / f"{name}_m.mp4").read_bytes() == mask.read_bytes()
    assert len(cache) == 1
    layers = cache.get(load_characters()["eva_a0008"], SIZE)
    assert len(cache) == 1  # the render's entry, not a new one
    assert layers.mouth_patch(("D", 6)) is layers.mouth_patch(("D", 6))


@pytest.mark.parametrize(
    ("ext", "rate", "channels"),
    [("mp3", 44_100, 2), ("ogg", 48_000, 1), ("m4a", 22_050, 2), ("flac", 32_000, 1)],
)
def test_every_format_renders(make_audio, tmp_path: Path, ext: str, rate: int, channels: int) -> None:
    src = make_audio(ext, rate, channels, duration=1.2)
    result = render(src.read_bytes(), "leo_m0011", tmp_path / "v.mp4", options=RenderOptions(size=64))
    info = video_info(tmp_path / "v.mp4")
    assert abs(result.frame_count - 1.2 * 25) <= 2  # lossy codecs pad a little
    assert info["frames"] == result.frame_count
    assert info["audio_codec"] == "aac"


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rate=st.sampled_from([8_000, 16_000, 22_050, 44_100, 48_000]),
    channels=st.sampled_from([1, 2]),
    duration=st.floats(min_value=0.2, max_value=2.0),
    fps=st.sampled_from([24, 25, 30]),
)
# 27562 samples at 22.05 kHz are 37.4993 frames at 30 fps; resampled for analysis they count 37.5.
@example(rate=22_050, channels=1, duration=1.25, fps=30)
def test_video_length_matches_audio_length(
    tmp_path: Path, rate: int, channels: int, duration: float, fps: int
) -> None:
    samples, _ = speech_like(duration, rate, seed=5, lead_silence=0.05)
    src = tmp_path / f"a_{rate}_{channels}.wav"
    encode_audio(samples, rate, src, channels=channels)
    audio_len = len(samples) / rate
    result = render(src, "mei_f0102", tmp_path / "v.mp4", options=RenderOptions(size=64, fps=fps))
    # Samples are counted after resampling to the analysis rate, exact to 2 samples there
    # (test_audio.py); so a length within that of a half-frame boundary may round either way.
    slack = 2 / ANALYSIS_RATE
    assert abs(result.duration - audio_len) <= 0.5 / fps + slack
    info = video_info(tmp_path / "v.mp4")
    assert info["frames"] == result.frame_count
    assert abs(result.frame_count - max(1.0, audio_len * fps)) <= 0.5 + slack * fps


def test_errors_are_typed_and_leave_no_files(make_audio, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    png = tmp_path / "x.png"
    write_png(png, np.zeros((4, 4, 3), np.uint8))
    short = make_audio("wav", 16_000, 1, duration=0.1)
    two_s = make_audio("wav", 16_000, 1, duration=2.0)
    cases = [
        (b"", EmptyAudioError, "empty"),
        (np.random.default_rng(2).bytes(3000), UndecodableAudioError, "audio"),
        (png, UndecodableAudioError, "no audio stream"),
        (short, AudioTooShortError, "audio is 0.100 s long; the minimum is 0.2 s"),
    ]
    for source, error, message in cases:
        with pytest.raises(error, match=message):
            render(
                source, "eva_a0008", out / "v.mp4", mask_output=out / "m.mp4", options=RenderOptions(size=64)
            )
    with pytest.raises(AudioTooLongError, match=r"audio is 2\.0 s long; the limit is 1 s"):
        render(two_s, "eva_a0008", out / "v.mp4", options=RenderOptions(size=64, max_duration=1.0))
    assert list(out.iterdir()) == []


def test_output_paths_are_checked_before_any_work(make_audio, tmp_path: Path) -> None:
    audio = make_audio(duration=0.5)
    with pytest.raises(RenderError, match=r"output directory .* does not exist"):
        render(audio, "eva_a0008", tmp_path / "missing" / "v.mp4")
    with pytest.raises(ValueError, match="mask_output must differ from output"):
        render(audio, "eva_a0008", tmp_path / "v.mp4", mask_output=tmp_path / "v.mp4")
    assert list(tmp_path.iterdir()) == []


def test_a_crash_mid_render_leaves_no_half_file(make_audio, tmp_path: Path) -> None:
    def explode(done: int, total: int) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        render(
            make_audio(duration=2.0),
            "eva_a0008",
            tmp_path / "v.mp4",
            mask_output=tmp_path / "m.mp4",
            options=RenderOptions(size=64),
            progress=explode,
        )
    assert list(tmp_path.iterdir()) == []


def test_render_runs_in_a_process_pool(make_audio, tmp_path: Path) -> None:
    pickle.dumps(render)
    # "spawn": a fresh interpreter, as a server's pool may use (and no fork-with-threads warning).
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        result = pool.submit(
            render,
            str(make_audio(duration=0.5)),
            load_characters()["kai_n0506"],  # a Character travels to the worker too
            str(tmp_path / "v.mp4"),
            options=RenderOptions(size=64),
        ).result(timeout=60)
    assert result.frame_count == round(0.5 * 25)
    assert pickle.loads(pickle.dumps(result)) == result


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 511}, "size must be even.*511"),
        ({"size": 32}, "size must be between 64 and 4096, got 32"),
        ({"fps": 0}, "fps must be an integer between 1 and 120, got 0"),
        ({"fps": 25.5}, "fps must be an integer"),
        ({"max_duration": 0.1}, "max_duration must be None or >= min_duration"),
    ],
)
def test_bad_options_name_the_value(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        RenderOptions(**kwargs)


def test_previews_for_every_character(tmp_path: Path) -> None:
    import av

    pictures = {}
    for cid, character in load_characters().items():
        render_preview(cid, tmp_path / f"{cid}.png", size=128)
        with av.open(str(tmp_path / f"{cid}.png")) as container:
            frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (128, 128)
        pictures[cid] = frame.to_ndarray(format="rgb24").astype(int)
        # The neutral pose over the background, as drawn (PNG is lossless: rounding only).
        rgb, alpha = draw_character(character, 128)
        expected = (rgb + draw_background(character, 128) * (1 - alpha[..., None])) * 255
        assert np.abs(pictures[cid] - expected).max() <= 1
    first, *others = pictures.values()
    assert all(np.abs(first - other).mean() > 5 for other in others)
