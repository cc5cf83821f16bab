"""Repeated frames without the encoder: hand-written H.264 "all skip" P frames.

libx264 spends ~0.3 ms analysing every 512x512 frame even when nothing changed, which is most frames
of the mask video (it changes only when the head moves) and of silent stretches of the main video.
When a frame repeats the previous one exactly, we write the smallest legal H.264 picture instead: a
P slice whose macroblocks are all P_Skip (zero motion, no residual), which a decoder turns into an
exact copy of the previous picture. x264 never sees those frames, so its later slices carry a
``frame_num`` that ignores them; ``SkipWriter`` renumbers those (a fixed-width field, patched in place).

Only the stream layout the renderer asks x264 for is supported (checked from the SPS/PPS, otherwise
``supported`` is False and callers just encode every frame): CAVLC, frame pictures, one slice group,
``pic_order_cnt_type`` 2 (no B-frames), no weighted prediction. References: ITU-T H.264 7.3.3
(slice header), 7.3.4 (slice data), 8.4.1.1 (P_Skip motion prediction: zero when neighbours are
zero-motion skips).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BitReader", "BitWriter", "SkipWriter", "StreamParams", "escape", "parse_params", "unescape"]


class BitReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0  # in bits

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3]
            value = (value << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("invalid Exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


class BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, value: int) -> None:
        self.bits.extend((value >> (n - 1 - i)) & 1 for i in range(n))

    def ue(self, value: int) -> None:
        code = value + 1
        n = code.bit_length()
        self.u(n - 1, 0)
        self.u(n, code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def trailing(self) -> bytes:
        """``rbsp_trailing_bits``: a one, then zeros to the byte boundary."""
        bits = [*self.bits, 1]
        bits += [0] * (-len(bits) % 8)
        return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))


_EMULATED = re.compile(b"\x00\x00\x03")
_NEEDS_ESCAPE = re.compile(b"\x00\x00(?=[\x00-\x03])")


def unescape(nal: bytes) -> bytes:
    """NAL payload -> RBSP (drop emulation-prevention ``03`` after ``00 00``)."""
    return _EMULATED.sub(b"\x00\x00", nal)


def escape(rbsp: bytes) -> bytes:
    """RBSP -> NAL payload (insert ``03`` wherever ``00 00`` precedes a byte <= 3)."""
    return _NEEDS_ESCAPE.sub(b"\x00\x00\x03", rbsp)


def split_annexb(data: bytes) -> list[bytes]:
    """Split an Annex B byte stream into NAL units (without start codes)."""
    starts: list[int] = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        starts.append(i + 3)
        i = data.find(b"\x00\x00\x01", i + 3)
    nals: list[bytes] = []
    for k, start in enumerate(starts):
        if k + 1 < len(starts):
            # The next start code may be the 4-byte form; its leading zero is not part of this NAL
            # (a NAL never ends in a zero byte: its RBSP ends with the stop bit).
            nals.append(data[start : starts[k + 1] - 3].rstrip(b"\x00"))
        else:
            nals.append(data[start:])
    return nals


@dataclass(frozen=True, slots=True)
class StreamParams:
    """What a slice header needs from the SPS and PPS."""

    log2_max_frame_num: int
    mbs: int
    pps_id: int
    deblocking_control: bool
    supported: bool
    reason: str = ""


def parse_params(extradata: bytes) -> StreamParams:
    """Read the SPS and PPS (Annex B extradata) and decide whether skip frames can be written."""
    sps = pps = None
    for nal in split_annexb(extradata):
        kind = nal[0] & 0x1F
        if kind == 7:
            sps = unescape(nal[1:])
        elif kind == 8:
            pps = unescape(nal[1:])
    if sps is None or pps is None:
        return StreamParams(4, 0, 0, False, False, "no SPS/PPS in extradata")
    r = BitReader(sps)
    profile = r.u(8)
    r.u(16)  # constraint flags, level
    r.ue()  # seq_parameter_set_id
    if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        if r.ue() == 3:  # chroma_format_idc
            r.u(1)
        r.ue()
        r.ue()
        r.u(1)
        if r.u(1):
            return StreamParams(4, 0, 0, False, False, "scaling matrices")
    log2_max_frame_num = r.ue() + 4
    poc_type = r.ue()
    if poc_type != 2:
        return StreamParams(log2_max_frame_num, 0, 0, False, False, f"pic_order_cnt_type {poc_type}")
    r.ue()  # max_num_ref_frames
    r.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = r.ue() + 1
    height_units = r.ue() + 1
    if not r.u(1):
        return StreamParams(log2_max_frame_num, 0, 0, False, False, "field coding")
    p = BitReader(pps)
    pps_id = p.ue()
    p.ue()  # seq_parameter_set_id
    if p.u(1):
        return StreamParams(log2_max_frame_num, 0, 0, False, False, "CABAC")
    bottom_field_poc = p.u(1)
    if p.ue() != 0:
        return StreamParams(log2_max_frame_num, 0, 0, False, False, "slice groups")
    if p.ue() != 0:  # num_ref_idx_l0_default_active_minus1
        return StreamParams(log2_max_frame_num, 0, 0, False, False, "several references")
    p.ue()
    if p.u(1) or bottom_field_poc:
        return StreamParams(log2_max_frame_num, 0, 0, False, False, "weighted prediction or field POC")
    p.u(2)
    p.se()
    p.se()
    p.se()
    deblocking_control = bool(p.u(1))
    p.u(1)
    if p.u(1):
        return StreamParams(log2_max_frame_num, 0, 0, False, False, "redundant pictures")
    return StreamParams(log2_max_frame_num, width_mbs * height_units, pps_id, deblocking_control, True)


class SkipWriter:
    """Makes all-skip P frames and renumbers ``frame_num`` in the encoder's own slices.

    Call ``skip_frame()`` for a repeated picture and ``rewrite(packet_bytes)`` on every packet that
    comes out of the encoder, in stream order.
    """

    def __init__(self, params: StreamParams) -> None:
        if not params.supported:
            raise ValueError(f"skip frames are not supported for this stream: {params.reason}")
        self.params = params
        self._frame_num = 0  # frame_num of the last reference picture written
        self._max = 1 << params.log2_max_frame_num

    def skip_frame(self) -> bytes:
        """An Annex B access unit: one reference P slice, every macroblock skipped."""
        self._frame_num = (self._frame_num + 1) % self._max
        w = BitWriter()
        w.ue(0)  # first_mb_in_slice
        w.ue(5)  # slice_type: P (all slices of the picture)
        w.ue(self.params.pps_id)
        w.u(self.params.log2_max_frame_num, self._frame_num)
        w.u(1, 0)  # num_ref_idx_active_override_flag
        w.u(1, 0)  # ref_pic_list_modification_flag_l0
        w.u(1, 0)  # adaptive_ref_pic_marking_mode_flag (sliding window)
        w.se(0)  # slice_qp_delta
        if self.params.deblocking_control:
            w.ue(1)  # disable_deblocking_filter_idc: off (nothing to filter anyway)
        w.ue(self.params.mbs)  # mb_skip_run: the whole picture
        return b"\x00\x00\x00\x01\x41" + escape(w.trailing())

    def rewrite(self, data: bytes) -> bytes:
        """Renumber the slices of one encoder packet (one picture) to follow the skip frames."""
        nals = split_annexb(data)
        kinds = [nal[0] & 0x1F for nal in nals]
        if 5 in kinds:  # IDR: frame_num is 0 and numbering restarts
            self._frame_num = 0
            return data
        if 1 not in kinds:
            return data
        # Every slice of a picture shares one frame_num: the previous reference's plus one.
        number = (self._frame_num + 1) % self._max
        is_reference = False
        out = bytearray()
        for nal, kind in zip(nals, kinds, strict=True):
            if kind == 1:
                is_reference = is_reference or bool(nal[0] >> 5 & 3)
                nal = nal[:1] + self._patch_frame_num(nal[1:], number)
            out += b"\x00\x00\x00\x01" + nal
        if is_reference:
            self._frame_num = number
        return bytes(out)

    def _patch_frame_num(self, payload: bytes, number: int) -> bytes:
        # Only the slice header's first bytes change: unescape, patch and re-escape a prefix that ends
        # outside any zero run, and keep the (possibly large) rest of the slice as it is.
        cut = min(len(payload), 12)
        while cut < len(payload) and (payload[cut - 1] == 0 or payload[cut - 2] == 0):
            cut += 1
        head, tail = payload[:cut], payload[cut:]
        rbsp = bytearray(unescape(head))
        r = BitReader(bytes(rbsp))
        r.ue()
        r.ue()
        r.ue()
        pos = r.pos
        for i in range(self.params.log2_max_frame_num):
            bit = (number >> (self.params.log2_max_frame_num - 1 - i)) & 1
            byte, shift = (pos + i) >> 3, 7 - ((pos + i) & 7)
            rbsp[byte] = (rbsp[byte] & ~(1 << shift)) | (bit << shift)
        return escape(bytes(rbsp)) + tail
