"""Audio for tests: a small WAV made on the spot, and a loopback HTTP host that serves it.

The mock downloads `audio_url` like the real service does, so a partner's test needs audio at a URL the
mock can reach. `make_wav()` builds a short speech-like WAV (the renderer's synthetic speech), and `AudioHost`
serves registered bytes on 127.0.0.1 for the live server (`a2v_server`); the in-process fixture
(`a2v_respx`) routes audio URLs through respx instead and needs no socket.

Example:
    >>> from partner.audio import make_wav
    >>> make_wav(0.5)[:4]
    b'RIFF'
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from reference_renderer.testing import speech_wav

__all__ = ["AudioHost", "make_wav"]


def make_wav(seconds: float = 1.0, *, sample_rate: int = 16000) -> bytes:
    """A mono 16-bit PCM WAV of `seconds` of speech-like sound (deterministic): the renderer's own
    synthetic speech, so the lip-sync has syllables to follow."""
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    return speech_wav(seconds, rate=sample_rate)


class AudioHost:
    """Serves registered bytes at `http://127.0.0.1:<port>/<path>`; anything else answers 404.

    Example:
        >>> host = AudioHost()
        >>> url = host.add("hello.wav", make_wav(0.3))
        >>> url.startswith("http://127.0.0.1:")
        True
        >>> host.close()
    """

    def __init__(self) -> None:
        self._files: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        files, lock = self._files, self._lock

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(with_body=True)

            def do_HEAD(self) -> None:
                self._answer(with_body=False)

            def _answer(self, *, with_body: bool) -> None:
                with lock:
                    found = files.get(urlsplit(self.path).path)
                if found is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data, content_type = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if with_body:
                    self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="a2v-audio-host", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def add(self, path: str, data: bytes, content_type: str = "audio/wav") -> str:
        """Serve `data` at `path` (e.g. `hello.wav`) and return its absolute URL."""
        path = "/" + path.lstrip("/")
        with self._lock:
            self._files[path] = (data, content_type)
        return self.base_url + path

    def clear(self) -> None:
        with self._lock:
            self._files.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
