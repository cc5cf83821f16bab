"""Every string rule of the spec means the same in ECMA-262 (node, with and without `u`), Python `re`,
Java and RE2 (Go), and the mock accepts exactly the URLs the rule accepts (issue 11: Specmatic's
ECMA-262 reading of the old `\\s` pattern and the mock's Python reading disagreed on 72 generated
requests; issue 21: Go's RE2 refused the old `(?![\\d\\D])` end anchor).

A pattern ends with `$`, which Python and Java also match before a final line break; what keeps the
rule the same is the rest of its schema (a `not` pattern that finds any line break, or a fixed length).
So each engine's answers for the pattern and for the `not` pattern are combined with the lengths into
the schema's verdict, and the verdicts must be equal; the `not` patterns must agree on every string,
and the patterns on every string without a line break.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest

from a2v_spec import load_spec
from tests.interop.conftest import require

if TYPE_CHECKING:
    from collections.abc import Callable
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

GO = """
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
)

func main() {
	pattern := regexp.MustCompile(os.Args[1])
	out := []byte{}
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		value, err := hex.DecodeString(scanner.Text())
		if err != nil {
			panic(err)
		}
		if pattern.MatchString(string(value)) {
			out = append(out, '1')
		} else {
			out = append(out, '0')
		}
	}
	fmt.Println(string(out))
}
"""

NODE = """
const [pattern, flags] = [process.argv[1], process.argv[2]];
const values = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(values.map((v) => (new RegExp(pattern, flags).test(v) ? "1" : "0")).join(""));
"""


LINE_BREAKS = ("\n", "\r", "\u0085", "\u2028", "\u2029")


@dataclass(frozen=True)
class Rule:
    """The string rules of one schema: its pattern, the pattern its `not` forbids, its lengths."""

    pattern: str
    forbidden: str | None
    min_length: int | None
    max_length: int | None

    def verdicts(self, values: list[str], pattern: str, forbidden: str | None) -> str:
        """The schema's verdict per value, from one engine's answers for the two patterns."""
        out = []
        for index, value in enumerate(values):
            ok = pattern[index] == "1" and (forbidden is None or forbidden[index] == "0")
            ok = ok and len(value) >= (self.min_length or 0)
            ok = ok and (self.max_length is None or len(value) <= self.max_length)
            out.append("1" if ok else "0")
        return "".join(out)


def _patterns() -> list[tuple[str, Rule]]:
    spec = load_spec()
    found: list[tuple[str, Rule]] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str) and not where.endswith("/not"):
                forbidden = node.get("not", {}).get("pattern")
                found.append(
                    (where, Rule(node["pattern"], forbidden, node.get("minLength"), node.get("maxLength")))
                )
            for key, value in node.items():
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


@dataclass(frozen=True)
class Engines:
    java: Path
    go: Path


@pytest.fixture(scope="module")
def engines(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Engines:
    """Java's Check.java (run from source) and a Go checker built once (stdlib only, offline)."""
    require("go")
    work = tmp_path_factory.mktemp("engines")
    (work / "Check.java").write_text(JAVA)
    (work / "check.go").write_text(GO)
    env = {**os.environ, "GO111MODULE": "off", "GOPROXY": "off", "GOCACHE": str(work / "gocache")}
    subprocess.run(
        ["go", "build", "-o", str(work / "check"), str(work / "check.go")],
        env=env,
        capture_output=True,
        timeout=300,
        check=True,
    )
    return Engines(work / "Check.java", work / "check")


def _go(binary: Path, pattern: str, values: list[str]) -> str:
    run = subprocess.run(
        [str(binary), pattern],
        input="\n".join(v.encode().hex() for v in values) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return run.stdout.strip()


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


@pytest.mark.parametrize(("where", "rule"), _patterns())
def test_rule_means_the_same_in_every_dialect(engines: Engines, where: str, rule: Rule) -> None:
    values = _corpus(rule.pattern)
    dialects: dict[str, Callable[[str, list[str]], str]] = {
        "python": _python,
        "node": lambda p, v: _node(p, v, ""),
        "node -u": lambda p, v: _node(p, v, "u"),
        "java": lambda p, v: _java(engines.java, p, v),
        "go": lambda p, v: _go(engines.go, p, v),
    }
    answers = {
        name: (run(rule.pattern, values), None if rule.forbidden is None else run(rule.forbidden, values))
        for name, run in dialects.items()
    }
    verdicts = {name: rule.verdicts(values, *answer) for name, answer in answers.items()}
    python = verdicts["python"]
    assert "1" in python, (where, python)
    assert "0" in python, (where, python)
    assert verdicts == dict.fromkeys(dialects, python), where
    no_breaks = [i for i, v in enumerate(values) if not any(brk in v for brk in LINE_BREAKS)]
    for name, (pattern, forbidden) in answers.items():
        assert forbidden == answers["python"][1], (where, name)
        assert [pattern[i] for i in no_breaks] == [answers["python"][0][i] for i in no_breaks], (where, name)


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
