from __future__ import annotations

from typing import TYPE_CHECKING

import av
import av.logging
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_renderer.encode import Mp4Writer
from reference_renderer.h264 import BitReader, BitWriter, escape, parse_params, split_annexb, unescape

if TYPE_CHECKING:
    from pathlib import Path


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(min_value=-5000, max_value=5000)), min_size=1, max_size=20)
)
def test_exp_golomb_round_trip(values: list[tuple[bool, int]]) -> None:
    w = BitWriter()
    for signed, v in values:
        w.se(v) if signed else w.ue(abs(v))
    r = BitReader(w.trailing())
    assert [r.se() if signed else r.ue() for signed, _ in values] == [v if s else abs(v) for s, v in values]


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=200).map(lambda b: b.replace(b"\x00\x00\x03", b"\x00\x00\x04") + b"\x80"))
def test_emulation_prevention_round_trip(rbsp: bytes) -> None:
    nal = escape(rbsp)
    for start in (b"\x00\x00\x00", b"\x00\x00\x01", b"\x00\x00\x02"):
        assert start not in nal
    assert unescape(nal) == rbsp


def test_split_annexb_handles_3_and_4_byte_start_codes() -> None:
    data = b"\x00\x00\x01\x06abc\x00\x00\x00\x01\x65def\x00\x00\x01\x41g"
    assert split_annexb(data) == [b"\x06abc", b"\x65def", b"\x41g"]


def write_and_decode(path: Path, pictures: list[int], repeat_flags: list[bool], size: int = 64):
    """Write frames of flat luma ``pictures[i]`` (repeats flagged) and decode them back."""
    with Mp4Writer(str(path), size, 25) as out:
        y, u, v = out.video_planes()
        u[...] = 128
        v[...] = 128
        for value, repeat in zip(pictures, repeat_flags, strict=True):
            if not repeat:
                y[...] = value
                y[: size // 4, : size // 4] = 255 - value  # some structure, not a flat picture
            out.write_video(repeat=repeat)
        skipped = out.skipped
    av.logging.set_level(av.logging.WARNING)
    try:
        with av.logging.Capture() as logs, av.open(str(path)) as container:
            frames = [f.to_ndarray()[:size] for f in container.decode(video=0)]
    finally:
        av.logging.set_level(None)
    return frames, skipped, logs


def test_x264_stream_is_supported() -> None:
    import io

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        from reference_renderer.encode import x264_options

        stream.codec_context.options = x264_options(25)
        frame = av.VideoFrame(64, 64, "yuv420p")
        frame.pts = 0
        container.mux(stream.encode(frame))
        extradata = stream.codec_context.extradata
        assert extradata is not None
        params = parse_params(bytes(extradata))
        container.mux(stream.encode(None))
    assert params.supported, params.reason
    assert params.mbs == 16


@pytest.mark.parametrize("size", [64, 96, 512])
def test_repeated_frames_decode_as_exact_copies(tmp_path: Path, size: int) -> None:
    pictures = [40, 40, 40, 90, 90, 200, 200, 200, 200, 60, 60, 60] * 30
    repeats = [i > 0 and pictures[i] == pictures[i - 1] for i in range(len(pictures))]
    frames, skipped, logs = write_and_decode(tmp_path / "r.mp4", pictures, repeats, size)
    assert logs == []  # the decoder found nothing to complain about (frame_num, references)
    assert len(frames) == len(pictures)
    assert skipped >= sum(repeats) - 5  # all but the first few (before the SPS is known) and keyframes
    exact = 0
    for i, value in enumerate(pictures):
        assert abs(int(np.median(frames[i])) - value) <= 2
        if repeats[i]:
            # Skip frames are exact copies; a repeat that went through x264 (a due keyframe, or
            # before the encoder's parameter sets were known) may refine the picture slightly.
            assert np.abs(frames[i].astype(int) - frames[i - 1]).max() <= 2
            exact += np.array_equal(frames[i], frames[i - 1])
    assert exact >= skipped


def test_keyframes_still_come_every_ten_seconds(tmp_path: Path) -> None:
    pictures = [50] * 600
    frames, skipped, _ = write_and_decode(tmp_path / "k.mp4", pictures, [i > 0 for i in range(600)])
    assert len(frames) == 600
    with av.open(str(tmp_path / "k.mp4")) as container:
        keys = [i for i, p in enumerate(container.demux(video=0)) if p.size and p.is_keyframe]
    assert keys == [0, 250, 500]
    assert skipped >= 590
