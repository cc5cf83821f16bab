"""Audio for tests: a small WAV made on the spot, and a loopback HTTP host that serves it.

The mock downloads `audio_url` like the real service does, so a partner's test needs audio at a URL the
mock can reach. `make_wav()` builds a short speech-like WAV (the test toolkit's synthetic speech), and
`AudioHost` serves registered bytes on 127.0.0.1 for the live server (`a2v_server`); the in-process
fixture (`a2v_respx`) routes audio URLs through respx instead and needs no socket.

Example:
    >>> from partner.audio import make_wav
    >>> make_wav(0.5)[:4]
    b'RIFF'
"""

from __future__ import annotations

from a2v_testkit import FileHost, speech_wav

__all__ = ["AudioHost", "make_wav"]


def make_wav(seconds: float = 1.0, *, sample_rate: int = 16000) -> bytes:
    """A mono 16-bit PCM WAV of `seconds` of speech-like sound (deterministic), with syllables and
    pauses for the lip-sync to follow (`a2v_testkit.speech_wav`)."""
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    return speech_wav(seconds, rate=sample_rate)


class AudioHost:
    """Serves registered bytes at `http://127.0.0.1:<port>/<path>`; anything else answers 404.

    Running from construction to `close()` (a `a2v_testkit.FileHost`, which also records requests).

    Example:
        >>> host = AudioHost()
        >>> url = host.add("hello.wav", make_wav(0.3))
        >>> url.startswith("http://127.0.0.1:")
        True
        >>> host.close()
    """

    def __init__(self) -> None:
        self.host = FileHost().start()

    @property
    def base_url(self) -> str:
        return self.host.base_url

    def add(self, path: str, data: bytes, content_type: str = "audio/wav") -> str:
        """Serve `data` at `path` (e.g. `hello.wav`) and return its absolute URL."""
        return self.host.add(path, data, content_type)

    def clear(self) -> None:
        self.host.clear()

    def close(self) -> None:
        self.host.stop()
