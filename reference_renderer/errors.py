"""Errors raised by the reference renderer.

Every failure the caller can act on has its own type, so a server can map it to an API error without
parsing messages::

    RenderError                  anything the renderer refuses or fails to do
    ├── AudioError               something is wrong with the input audio
    │   ├── EmptyAudioError        zero bytes, or a valid file with no samples
    │   ├── UndecodableAudioError  corrupt data, not audio, or an unreadable file
    │   ├── AudioTooShortError     shorter than ``RenderOptions.min_duration``
    │   └── AudioTooLongError      longer than ``RenderOptions.max_duration``
    └── CharacterError           unknown character id or an invalid character YAML file

Messages say what was wrong with the input, e.g. ``"audio is 612.4 s long; the limit is 600 s"``.
"""

from __future__ import annotations

__all__ = [
    "AudioError",
    "AudioTooLongError",
    "AudioTooShortError",
    "CharacterError",
    "EmptyAudioError",
    "RenderError",
    "UndecodableAudioError",
]


class RenderError(Exception):
    """Base class: the renderer could not produce a video."""


class AudioError(RenderError):
    """The input audio cannot be used."""


class EmptyAudioError(AudioError):
    """The input has zero bytes, or decodes to no samples."""


class UndecodableAudioError(AudioError):
    """The input is corrupt, is not audio, or cannot be read."""


class AudioTooShortError(AudioError):
    """The audio is shorter than the minimum duration."""


class AudioTooLongError(AudioError):
    """The audio is longer than the maximum duration."""


class CharacterError(RenderError):
    """A character id is unknown, or a character YAML file is invalid."""
