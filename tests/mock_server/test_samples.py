"""mock_server/tasks/samples.py: the built-in speech samples are real, deterministic audio."""

from __future__ import annotations

import io

import av
import pytest

from mock_server.tasks.samples import SAMPLES, Samples, UnknownSample


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_decodes_to_its_length(name: str) -> None:
    data = Samples().bytes_of(name)

    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        rate = stream.rate

    assert samples / rate == pytest.approx(SAMPLES[name].seconds, abs=1e-3)


def test_samples_are_the_same_bytes_every_time_and_differ_from_each_other() -> None:
    first, second = Samples(), Samples()

    assert first.bytes_of("hello.wav") == second.bytes_of("hello.wav")
    assert first.bytes_of("hello.wav") != first.bytes_of("short.wav")


def test_an_unknown_sample_names_the_ones_that_exist() -> None:
    with pytest.raises(
        UnknownSample, match=r"no built-in sample 'x.wav'; the samples are counting.wav, hello"
    ):
        Samples().bytes_of("x.wav")


def test_urls_are_under_the_base() -> None:
    assert Samples.urls("http://127.0.0.1:9/")["hello.wav"] == "http://127.0.0.1:9/samples/hello.wav"
