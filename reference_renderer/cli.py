"""``a2v-render``: render a talking-character MP4 from an audio file.

Exit codes: 0 success, 1 the audio (or a character file) was rejected (message on stderr),
2 usage errors (argparse's convention).

Example::

    a2v-render speech.mp3 --character eva_a0008 --output out.mp4 --mask-output mask.mp4
    a2v-render --list-characters
    a2v-render --character leo_m0011 --preview leo.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import NoReturn, TextIO

from .characters import load_characters
from .errors import AudioError, CharacterError, RenderError
from .render import render, render_preview
from .types import RenderOptions

__all__ = ["main"]


class _Progress:
    """A one-line progress bar on a terminal; silent when stderr is not a TTY (pipes, CI logs)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.start = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        elapsed = time.monotonic() - self.start
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} frames {elapsed:5.1f} s"
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


#: What each output option writes, by file extension (anything else is refused before rendering).
_OUTPUT_SUFFIXES = {
    "--output": ".mp4",
    "--mask-output": ".mp4",
    "--track-output": ".json",
    "--preview": ".png",
}

_EPILOG = """\
modes:
  render     a2v-render AUDIO --character ID --output OUT.mp4 [--mask-output MASK.mp4] [--track-output T.json]
  list       a2v-render --list-characters [--characters EXTRA.yaml]
  preview    a2v-render --character ID --preview OUT.png [--size N]

outputs: --output and --mask-output write MP4 (H.264 + AAC), --track-output JSON, --preview PNG;
any other extension is refused before anything is rendered. A progress bar is shown when stderr is
a terminal.

exit codes:
  0  success
  1  the input was rejected: audio missing, unreadable, not audio, too short or too long, or a bad
     characters file (the message on stderr names the file)
  2  usage error: a missing or unknown option, a bad value, an output extension it does not write
"""


def _version() -> str:
    """`a2v-render <version> (a2v-kit)`, as the other commands say it (the renderer imports no spec)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"a2v-render {version('a2v-kit')} (a2v-kit)"
    except PackageNotFoundError:
        return "a2v-render 0+unknown (a2v-kit)"


class _Parser(argparse.ArgumentParser):
    """Usage errors as the kit's other commands print them (`a2v_spec.usage`, not imported: the
    renderer imports nothing from the spec): the message first, then where the help is, instead of
    the whole usage block before it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\nRun '{self.prog} --help' to see every option.\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="a2v-render",
        description="Render a lip-synced talking-character MP4 (H.264 + AAC) from any audio file.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=_version())
    p.add_argument("audio", nargs="?", help="input audio (WAV, MP3, Ogg/Opus, M4A/AAC, FLAC, ...)")
    p.add_argument("--character", "-c", help="character model_id (see --list-characters)")
    p.add_argument("--output", "-o", help="output MP4 path")
    p.add_argument("--mask-output", help="also write the character's alpha mask as an MP4")
    p.add_argument("--track-output", help="also write the mouth track as JSON (time, shape, openness)")
    p.add_argument(
        "--size", type=int, default=512, help="frame width and height in pixels (even; default 512)"
    )
    p.add_argument("--fps", type=int, default=25, help="frames per second (default 25)")
    p.add_argument(
        "--max-duration", type=float, default=600.0, help="longest accepted audio in s (default 600)"
    )
    p.add_argument(
        "--characters", metavar="EXTRA.yaml", help="a YAML file of characters merged over the built-ins"
    )
    p.add_argument("--list-characters", action="store_true", help="print the available characters and exit")
    p.add_argument("--preview", metavar="OUT.png", help="write the character's preview PNG (no audio needed)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of exiting (argparse's usage errors become 2)."""
    try:
        return _main(argv)
    except SystemExit as exc:  # argparse exits for --help (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else 2


def _main(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    for option, suffix in _OUTPUT_SUFFIXES.items():
        value = getattr(args, option[2:].replace("-", "_"))
        if value is not None and not value.lower().endswith(suffix):
            parser.error(f"{option} {value!r}: a2v-render writes only {suffix} there")
    try:
        chars = load_characters(args.characters)
    except CharacterError as err:
        print(f"a2v-render: {err}", file=sys.stderr)
        return 1

    if args.list_characters:
        for cid, ch in sorted(chars.items()):
            print(f"{cid}\t{ch.display_name}\t{ch.gender}")
        return 0
    if not args.character:
        parser.error("--character is required (see --list-characters)")
    if args.character not in chars:
        parser.error(f"unknown character {args.character!r}; known: {', '.join(sorted(chars))}")
    character = chars[args.character]

    if args.preview:
        try:
            render_preview(character, args.preview, size=args.size)
        except ValueError as err:
            parser.error(str(err))
        if not args.audio:
            return 0
    if not args.audio:
        parser.error("the AUDIO argument is required (or use --preview / --list-characters)")
    if not args.output:
        parser.error("--output is required")
    try:
        options = RenderOptions(size=args.size, fps=args.fps, max_duration=args.max_duration)
    except ValueError as err:
        parser.error(str(err))
    if not os.path.exists(args.audio):
        print(f"a2v-render: audio file {args.audio!r} does not exist", file=sys.stderr)
        return 1
    if os.path.isdir(args.audio):
        print(f"a2v-render: {args.audio!r} is a directory, not an audio file", file=sys.stderr)
        return 1

    try:
        result = render(
            args.audio,
            character,
            args.output,
            mask_output=args.mask_output,
            options=options,
            progress=_Progress(sys.stderr),
        )
    except AudioError as err:
        print(f"a2v-render: {_naming(args.audio, str(err))}", file=sys.stderr)
        return 1
    except RenderError as err:
        print(f"a2v-render: {_naming(args.audio, f'render failed: {err}')}", file=sys.stderr)
        return 1
    if args.track_output:
        with open(args.track_output, "w", encoding="utf-8") as fh:
            json.dump({"fps": options.fps, "duration": result.duration, "frames": result.track_json()}, fh)
    if sys.stderr.isatty():
        print(f"{args.output}: {result.frame_count} frames, {result.duration:.2f} s", file=sys.stderr)
    return 0


def _naming(path: str, message: str) -> str:
    """The message with the input file named once (some renderer errors already name it)."""
    return message if path in message else f"{path}: {message}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
