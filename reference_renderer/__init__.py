"""A2V reference renderer: any audio in, a lip-synced talking-character MP4 (and its mask) out.

Example::

    from reference_renderer import render, load_characters

    result = render("speech.mp3", "eva_a0008", "out.mp4", mask_output="out_mask.mp4")
    print(result.duration, result.frame_count, result.track[0])

A process that renders again and again (a worker) keeps a ``LayerCache`` and passes it as
``layer_cache=``, so each character is drawn once.
"""

from __future__ import annotations

from .audio import probe_audio
from .characters import Character, load_characters
from .errors import (
    AudioError,
    AudioTooLongError,
    AudioTooShortError,
    CharacterError,
    EmptyAudioError,
    RenderError,
    UndecodableAudioError,
)
from .layers import LayerCache
from .render import analyze_audio, render, render_preview
from .types import SHAPES, MouthFrame, RenderOptions, RenderResult

__all__ = [
    "SHAPES",
    "AudioError",
    "AudioTooLongError",
    "AudioTooShortError",
    "Character",
    "CharacterError",
    "EmptyAudioError",
    "LayerCache",
    "MouthFrame",
    "RenderError",
    "RenderOptions",
    "RenderResult",
    "UndecodableAudioError",
    "analyze_audio",
    "load_characters",
    "probe_audio",
    "render",
    "render_preview",
]
