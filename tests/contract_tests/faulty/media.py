"""Rewriting the mock's MP4s with PyAV, for the file faults (remux only: no re-encoding)."""

from __future__ import annotations

import io

import av


def remux(data: bytes, *, keep_audio: bool = True, keep_fraction: float = 1.0) -> bytes:
    """Copy the packets of `data` into a new MP4, maybe without audio, maybe only the first part."""
    out = io.BytesIO()
    with av.open(io.BytesIO(data), mode="r") as src, av.open(out, "w", format="mp4") as dst:
        streams = [s for s in src.streams if s.type == "video" or (keep_audio and s.type == "audio")]
        mapping = {s.index: dst.add_stream_from_template(s) for s in streams}
        duration = float(src.duration or 0) / av.time_base
        limit = duration * keep_fraction
        for packet in src.demux(*streams):
            if packet.dts is None:
                continue
            if (
                packet.pts is not None
                and packet.time_base is not None
                and float(packet.pts * packet.time_base) >= limit
            ):
                continue
            packet.stream = mapping[packet.stream.index]
            dst.mux(packet)
    return out.getvalue()
