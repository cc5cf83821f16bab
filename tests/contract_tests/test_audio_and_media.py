"""Audio fixtures decode to the length asked for, in every container; probe reads MP4s truthfully."""

from __future__ import annotations

import pytest

from contract_tests.audio import FORMATS, AudioSpec, decoded_duration, make_audio
from contract_tests.media import probe


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("channels", [1, 2])
def test_every_format_decodes_to_its_length(fmt: str, channels: int) -> None:
    spec = AudioSpec(fmt, FORMATS[fmt].rates[0], channels, 0.7, seed=3)
    data = make_audio(spec)
    assert data == make_audio(spec), "fixtures must be deterministic"
    assert decoded_duration(data) == pytest.approx(0.7, abs=0.001)


def test_probe_refuses_what_is_not_media() -> None:
    with pytest.raises(ValueError, match="not a media file"):
        probe(b"plain text, not an mp4")


def test_probe_reads_an_audio_only_file() -> None:
    info = probe(make_audio(AudioSpec("wav", 16000, 1, 0.5)))
    assert info.video_codec is None
    assert info.audio_seconds == pytest.approx(0.5)
