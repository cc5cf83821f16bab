"""What a proxy session found: the summary printed on exit, JSON and JUnit XML.

One verdict per requirement and side: `failed` when a violation names it, `passed` when traffic was
judged and none did. JUnit has one testsuite per side and one testcase per requirement id (the same
ids as the kit's report, so a CI dashboard shows a proxy session and a kit run side by side).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from contract_tests.proxy.requirements import (
    CLIENT_REQUIREMENTS,
    SERVER_JUDGED,
    SERVER_NOT_JUDGED,
    requirement,
)

if TYPE_CHECKING:
    from pathlib import Path

    from contract_tests.proxy.judge import Judge
    from contract_tests.proxy.violations import TrafficViolation

__all__ = ["SessionReport"]

_SHOWN = 20


class SessionReport:
    def __init__(self, judge: Judge) -> None:
        self.exchanges = judge.exchanges
        self.violations: list[TrafficViolation] = list(judge.violations)
        self.by_id: dict[tuple[str, str], list[TrafficViolation]] = defaultdict(list)
        for violation in self.violations:
            self.by_id[(violation.side, violation.requirement)].append(violation)

    @property
    def clean(self) -> bool:
        return not self.violations

    def ids(self, side: str) -> list[str]:
        return list(SERVER_JUDGED) if side == "server" else list(CLIENT_REQUIREMENTS)

    def outcome(self, side: str, rid: str) -> str:
        return "failed" if self.by_id.get((side, rid)) else "passed"

    def text(self) -> str:
        lines = [
            f"a2v-contract proxy: {self.exchanges} exchanges judged, {len(self.violations)} violation(s)"
        ]
        for side in ("server", "client"):
            failed = [rid for rid in self.ids(side) if self.outcome(side, rid) == "failed"]
            failed += sorted({rid for s, rid in self.by_id if s == side} - set(self.ids(side)))
            lines.append(f"  {side}: {len(failed)} requirement(s) broken" + (":" if failed else ""))
            for rid in failed:
                count = len(self.by_id[(side, rid)])
                lines.append(f"    {rid:30} {count:5} x  {requirement(rid).title}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        requirements: dict[str, Any] = {}
        for side in ("server", "client"):
            for rid in self.ids(side):
                requirements[rid] = {
                    "side": side,
                    "title": requirement(rid).title,
                    "outcome": self.outcome(side, rid),
                    "violations": len(self.by_id.get((side, rid), [])),
                }
        for rid, why in SERVER_NOT_JUDGED.items():
            requirements[rid] = {
                "side": "server",
                "title": requirement(rid).title,
                "outcome": "not judged",
                "why": why,
            }
        return {
            "exchanges": self.exchanges,
            "clean": self.clean,
            "requirements": requirements,
            "violations": [v.as_dict() for v in self.violations],
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")

    def write_junit(self, path: Path) -> None:
        root = ET.Element("testsuites", name="a2v-contract proxy")
        for side in ("server", "client"):
            ids = self.ids(side)
            failures = sum(1 for rid in ids if self.outcome(side, rid) == "failed")
            suite = ET.SubElement(
                root, "testsuite", name=f"a2v-proxy-{side}", tests=str(len(ids)), failures=str(failures)
            )
            for rid in ids:
                case = ET.SubElement(suite, "testcase", classname=f"a2v.proxy.{side}", name=rid)
                found = self.by_id.get((side, rid), [])
                if found:
                    failure = ET.SubElement(
                        case, "failure", message=f"{len(found)} violation(s): {found[0].message}"[:500]
                    )
                    failure.text = "\n\n".join(v.text() for v in found[:_SHOWN])
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
