"""Every pattern of the spec means the same in ECMA-262 (node), Python `re` and Java, and the mock
accepts exactly the URLs the pattern accepts (issue 11: Specmatic's ECMA-262 reading of the old `\\s`
pattern and the mock's Python reading disagreed on 72 generated requests)."""

from __future__ import annotations

import json
import re
import subprocess
from typing import TYPE_CHECKING

import httpx
import pytest

from a2v_spec import load_spec

if TYPE_CHECKING:
    from pathlib import Path

    from tests.interop.conftest import Live

BASE = "http://127.0.0.1:9/a.wav"
#: Strings on which regex dialects are known to disagree, around a URL that is valid.
TRICKY = [
    BASE,
    "HTTPS://127.0.0.1:9/a.wav?x=1#y",
    "http://127.0.0.1",
    BASE + "\n",
    BASE + "\r\n",
    BASE + "\r",
    BASE + "\u0085",
    BASE + "\u2028",
    BASE + "\u2029",
    BASE.replace("a.wav", "a\x1cb.wav"),
    BASE.replace("a.wav", "a\x1fb.wav"),
    BASE.replace("a.wav", "a\x85b.wav"),
    BASE.replace("a.wav", "a\tb.wav"),
    BASE.replace("a.wav", "a b.wav"),
    BASE.replace("a.wav", "a\u00a0b.wav"),
    BASE.replace("a.wav", "a\ufeffb.wav"),
    BASE.replace("a.wav", "\u00e9.wav"),
    BASE.replace("a.wav", "a%20b.wav"),
    "\n" + BASE,
    "https://",
    "https:///a.wav",
    "http://#frag",
    "ftp://127.0.0.1/a.wav",
    "http:/127.0.0.1/a.wav",
]

JAVA = """
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
public class Check {
  public static void main(String[] args) throws Exception {
    Pattern pattern = Pattern.compile(args[0]);
    StringBuilder out = new StringBuilder();
    for (String line : new String(System.in.readAllBytes(), StandardCharsets.UTF_8).split("\\n")) {
      if (line.isEmpty()) continue;
      StringBuilder value = new StringBuilder();
      for (int i = 0; i < line.length(); i += 4) {
        value.append((char) Integer.parseInt(line.substring(i, i + 4), 16));
      }
      out.append(pattern.matcher(value).find() ? '1' : '0');
    }
    System.out.println(out);
  }
}
"""

NODE = """
const [pattern, flags] = [process.argv[1], process.argv[2]];
const values = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(values.map((v) => (new RegExp(pattern, flags).test(v) ? "1" : "0")).join(""));
"""


def _patterns() -> list[tuple[str, str]]:
    spec = load_spec()
    found: list[tuple[str, str]] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str):
                    found.append((where, value))
                else:
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(spec.document, "")
    return found


def _utf16_hex(value: str) -> str:
    raw = value.encode("utf-16-be")
    return "".join(f"{raw[i]:02x}{raw[i + 1]:02x}" for i in range(0, len(raw), 2))


def _corpus(pattern: str) -> list[str]:
    """The tricky strings, plus the same line-break and control-character cases around a string that
    matches this pattern (found among a few candidates)."""
    seeds = ["eva_a0008", "7895cd9a63564367b0c7b06e6837b5c6", "t=1,v1=" + "a" * 64, "key-1", BASE]
    seed = next(s for s in seeds if re.search(pattern, s))
    endings = ["", "\n", "\r\n", "\r", "\u0085", "\u2028", "\u2029", " ", "\x1c", "\ufeff"]
    return TRICKY + [seed + end for end in endings] + ["\n" + seed, seed[:1] + "\x1f" + seed[1:]]


def _python(pattern: str, values: list[str]) -> str:
    compiled = re.compile(pattern)
    return "".join("1" if compiled.search(v) else "0" for v in values)


def _node(pattern: str, values: list[str], flags: str) -> str:
    run = subprocess.run(
        ["node", "-e", NODE, pattern, flags],
        input=json.dumps(values),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return run.stdout.strip()


@pytest.fixture(scope="module")
def java_check(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("java") / "Check.java"
    source.write_text(JAVA)
    return source


def _java(source: Path, pattern: str, values: list[str]) -> str:
    run = subprocess.run(
        ["java", str(source), pattern],
        input="\n".join(_utf16_hex(v) for v in values) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return run.stdout.strip()


@pytest.mark.parametrize(("where", "pattern"), _patterns())
def test_pattern_means_the_same_in_every_dialect(java_check: Path, where: str, pattern: str) -> None:
    values = _corpus(pattern)
    python = _python(pattern, values)
    assert "1" in python, (where, python)
    assert "0" in python, (where, python)
    assert _node(pattern, values, "") == python, where
    assert _node(pattern, values, "u") == python, where
    assert _java(java_check, pattern, values) == python, where


def test_the_mock_accepts_exactly_the_urls_the_pattern_accepts(live: Live) -> None:
    rule = load_spec().url_rule
    with httpx.Client(base_url=live.base_url, headers={"Authorization": "Bearer patterns"}) as client:
        for value in TRICKY:
            for field in ("audio_url", "callback_url"):
                body = {"model_id": "eva_a0008", "audio_url": BASE, field: value}
                answer = client.post("/v1/a2v/video.generate", json=body)
                expected = 200 if rule.is_valid(value) else 400
                assert answer.status_code == expected, (field, value, answer.text)
                if expected == 400:
                    assert answer.json()["code"] == 1003
                    assert field in answer.json()["message"]
