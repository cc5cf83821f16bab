from __future__ import annotations

from typing import TYPE_CHECKING

import av
import numpy as np
import pytest

from reference_renderer.encode import Mp4Writer, aac_layout, aac_rate, atomic_path, write_png

from .conftest import top_level_boxes, video_info

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("rate", "expected"), [(8000, 8000), (44_100, 44_100), (37_800, 44_100), (96_000, 48_000)]
)
def test_aac_rate(rate: int, expected: int) -> None:
    assert aac_rate(rate) == expected


def test_aac_layout() -> None:
    assert (aac_layout(1), aac_layout(2), aac_layout(6)) == ("mono", "stereo", "stereo")


def test_writer_makes_a_browser_ready_mp4(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with Mp4Writer(str(path), 64, 25, audio_rate=16_000, audio_layout="mono") as out:
        y, u, v = out.video_planes()
        for i in range(25):
            y[...] = 16 + i * 8
            u[...] = 128
            v[...] = 128
            out.write_audio(np.zeros(640, np.float32))
            out.write_video()
    info = video_info(path)
    assert (info["video_codec"], info["pix_fmt"], info["audio_codec"], info["frames"]) == (
        "h264",
        "yuv420p",
        "aac",
        25,
    )
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart
    with av.open(str(path)) as container:
        lumas = [int(f.to_ndarray(format="gray").mean()) for f in container.decode(video=0)]
    assert lumas[0] < lumas[-1]  # the re-used frame was really refilled each time


def test_atomic_path_leaves_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "final.bin"

    def crash() -> None:
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(b"half")
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        crash()
    assert list(tmp_path.iterdir()) == []
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        fh.write(b"whole")
    assert target.read_bytes() == b"whole"
    assert [p.name for p in tmp_path.iterdir()] == ["final.bin"]


def test_png_round_trips(tmp_path: Path) -> None:
    img = np.random.default_rng(0).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    path = tmp_path / "x.png"
    write_png(path, img)
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    np.testing.assert_array_equal(frame.to_ndarray(format="rgb24"), img)
