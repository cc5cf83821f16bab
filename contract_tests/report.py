"""From pytest outcomes to a verdict per requirement: the text summary, JSON and JUnit XML.

Each kit test declares the requirement ids it checks (`@pytest.mark.a2v_requirement(...)`). A failure
is attributed to the id its `ContractViolation` names (which may be another id than the test's, e.g.
when a shared fixture saw the task move backwards). A requirement is

* `failed`       when any violation names it;
* `blocked`      when a test checking it could not run to the end for another reason (an earlier
  failure in a shared step, or an error of the kit itself);
* `inconclusive` when its checks ran without a violation but did not see what it needs to be judged
  (`Requirement.needs`, counted in `contract_tests.evidence`), or a check's control failed: the report
  says which observation was missing;
* `passed`       when at least one test checked it, every need was observed and none of the above
  happened; the report shows how many observations supported it;
* `skipped`      when every test checking it was skipped (`--skip`, no second key, a feature not
  declared).

Every rendering carries the run's identity (`identify`): the kit's version, the SHA-256 of the spec the
run judged against, the target URL, and when the run started and ended, so a report shared with a
partner says exactly what was checked against what. The HTML rendering is `contract_tests.report_html`.
"""

from __future__ import annotations

import hashlib
import json
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contract_tests.evidence import Evidence
from contract_tests.requirements import REQUIREMENTS

if TYPE_CHECKING:
    from contract_tests.coverage import Coverage
    from contract_tests.violations import Violation

__all__ = ["ItemResult", "KitReport", "Outcome", "RequirementResult"]


class Outcome(StrEnum):
    """The verdict on one test, or on one requirement; declared from worst to best."""

    FAILED = "failed"
    BLOCKED = "blocked"
    INCONCLUSIVE = "inconclusive"
    PASSED = "passed"
    SKIPPED = "skipped"

    @property
    def conforms(self) -> bool:
        """Passed and skipped leave the implementation conforming; failed and blocked do not."""
        return self in (Outcome.PASSED, Outcome.SKIPPED)


@dataclass
class ItemResult:
    """What one kit test found: its outcome, the violations it saw (of any id) and why it stopped."""

    nodeid: str
    requirements: list[str]
    outcome: Outcome
    violations: list[Violation] = field(default_factory=list)
    message: str = ""
    duration: float = 0.0


@dataclass
class RequirementResult:
    id: str
    outcome: Outcome
    title: str
    quote: str
    pointer: str
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duration: float = 0.0
    #: How many observations supported it (checks that held, answers judged), and of which kinds.
    observations: int = 0
    evidence: dict[str, int] = field(default_factory=dict)


@dataclass
class KitReport:
    items: list[ItemResult] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    finished: float = 0.0
    evidence: Evidence = field(default_factory=Evidence)
    #: Violations the kit's client noticed on any exchange, whatever check sent it (`watch.py`).
    findings: list[Violation] = field(default_factory=list)
    #: The run's traffic: requests sent, 429 answers, seconds waited for rate-limit windows.
    traffic: dict[str, float] = field(default_factory=dict)
    #: What of the contract the run observed (operations, statuses, catalog codes, headers).
    coverage: Coverage | None = None
    #: The run's identity (`identify`): what was checked, against which spec, by which kit.
    target_url: str = ""
    spec_sha256: str = ""
    kit_version: str = ""

    def identify(self, target_url: str, spec_path: Path | None = None) -> None:
        """Record the target, the SHA-256 of the spec file (default: the bundled one) and the kit's
        version."""
        from a2v_spec import spec_path as bundled
        from a2v_spec.version import kit_version

        self.target_url = target_url
        self.kit_version = kit_version()
        try:
            self.spec_sha256 = hashlib.sha256(Path(spec_path or bundled()).read_bytes()).hexdigest()
        except OSError:
            self.spec_sha256 = ""  # a spec that cannot be read stops the run with its own error

    def add(self, item: ItemResult) -> None:
        self.items.append(item)

    def add_finding(self, violation: Violation) -> None:
        self.findings.append(violation)

    def requirements(self) -> dict[str, RequirementResult]:
        """The verdict per requirement id, in the table's order, for every id some test touched."""
        touched: dict[str, list[Outcome]] = {}
        failures: dict[str, list[Violation]] = {}
        notes: dict[str, list[str]] = {}
        durations: dict[str, float] = {}
        for v in self.findings:
            failures.setdefault(v.requirement, []).append(v)
            touched.setdefault(v.requirement, [])
        for item in self.items:
            for v in item.violations:
                failures.setdefault(v.requirement, []).append(v)
                touched.setdefault(v.requirement, [])
            violated = {v.requirement for v in item.violations}
            for rid in item.requirements:
                # A failed test verified its other ids (a test that could not verify them is "blocked").
                outcome = item.outcome
                if outcome is Outcome.FAILED and rid not in violated:
                    outcome = Outcome.PASSED
                touched.setdefault(rid, []).append(outcome)
                durations[rid] = durations.get(rid, 0.0) + item.duration
                if item.message and item.outcome in (Outcome.BLOCKED, Outcome.SKIPPED, Outcome.INCONCLUSIVE):
                    notes.setdefault(rid, []).append(item.message)
        for rid, sentences in self.evidence.unjudged.items():
            touched.setdefault(rid, []).append(Outcome.INCONCLUSIVE)
            notes.setdefault(rid, []).extend(f"not judged: {s}" for s in sentences)
        results: dict[str, RequirementResult] = {}
        for rid in [r for r in REQUIREMENTS if r in touched] + [r for r in touched if r not in REQUIREMENTS]:
            # The worst outcome wins; a violation naming the id fails it even if no test declared it.
            outcome = min([*touched[rid], *([Outcome.FAILED] if rid in failures else [])], key=_rank)
            req = REQUIREMENTS.get(rid)
            if outcome is Outcome.PASSED and req is not None:
                # Evidence, then verdict: a check that held proves only what it saw.
                missing = self.evidence.missing(rid, req.needs)
                if missing:
                    outcome = Outcome.INCONCLUSIVE
                    notes.setdefault(rid, []).extend(f"not judged: missing {m}" for m in missing)
            results[rid] = RequirementResult(
                id=rid,
                outcome=outcome,
                title=req.title if req else rid,
                quote=req.quote if req else "",
                pointer=req.pointer if req else "",
                violations=_unique(failures.get(rid, [])),
                notes=list(dict.fromkeys(notes.get(rid, []))),
                duration=round(durations.get(rid, 0.0), 3),
                observations=self.evidence.count(rid),
                evidence=dict(self.evidence.counts.get(rid, {})),
            )
        return results

    def outcomes(self) -> dict[str, Outcome]:
        return {rid: r.outcome for rid, r in self.requirements().items()}

    @property
    def conforms(self) -> bool:
        return all(r.outcome.conforms for r in self.requirements().values())

    # -- rendering ---------------------------------------------------------------------------------------
    def text(self) -> str:
        reqs = self.requirements()
        counts = {k: sum(1 for r in reqs.values() if r.outcome is k) for k in Outcome}
        lines = ["A2V contract: " + ", ".join(f"{n} {k}" for k, n in counts.items() if n)]
        if self.traffic:
            t = self.traffic
            lines.append(
                f"  {t.get('requests', 0):g} requests, {t.get('answered_429', 0):g} answered 429, "
                f"{t.get('waited_for_windows', 0):g} s waited for rate-limit windows"
            )
        for r in reqs.values():
            seen = f" ({_plural(r.observations, 'observation')})" if r.outcome is Outcome.PASSED else ""
            lines.append(f"  {r.outcome.upper():12} {r.id:28} {r.title}{seen}")
        if self.coverage is not None:
            lines.append("")
            lines.append("Coverage (what the run observed):")
            lines.extend(self.coverage.summary())
        skipped = [r for r in reqs.values() if r.outcome is Outcome.SKIPPED]
        if skipped:
            lines.append("")
            lines.append("Skipped:")
            lines.extend(f"  {r.id}: {r.notes[0] if r.notes else 'skipped'}" for r in skipped)
        for r in reqs.values():
            if r.outcome.conforms:
                continue
            lines.append("")
            lines.append(f"{r.outcome.upper()} {r.id}: {r.title}")
            lines.append(f'  spec ({r.pointer}): "{r.quote}"')
            for v in r.violations[:3]:
                lines.append(f"  - {v.message}")
                if v.expected:
                    lines.append(f"    expected: {v.expected}")
                if v.got:
                    lines.append(f"    got:      {v.got}")
                if v.curl:
                    lines.append(f"    request:  {v.curl}")
            if r.outcome in (Outcome.BLOCKED, Outcome.INCONCLUSIVE):
                lines.extend(f"  - {note}" for note in r.notes[:3])
        return "\n".join(lines)

    def identity(self) -> dict[str, Any]:
        """The kit's version, the spec's SHA-256, the target URL, the run's start and end (UTC)."""
        return {
            "kit_version": self.kit_version,
            "spec_sha256": self.spec_sha256,
            "target_url": self.target_url,
            "started": _iso(self.started),
            "finished": _iso(self.finished) if self.finished else None,
        }

    def timings(self) -> dict[str, list[float]]:
        """Seconds each answer took to come, per operation (`file download`, `other API path` for the
        rest), in the order they came."""
        out: dict[str, list[float]] = {}
        for timing in self.evidence.requests:
            out.setdefault(timing.operation, []).append(round(timing.seconds, 4))
        return dict(sorted(out.items()))

    def tasks(self) -> dict[str, list[dict[str, Any]]]:
        """Every read of each task the run observed: seconds since the run started, status (None for
        the answer of `video.generate`), progress."""
        return {
            video_id: [
                {"t": round(seen.at - self.started, 3), "status": seen.status, "progress": seen.progress}
                for seen in sorted(reads, key=lambda seen: seen.at)
            ]
            for video_id, reads in self.evidence.tasks.items()
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.identity(),
            "conforms": self.conforms,
            "requirements": {rid: asdict(r) for rid, r in self.requirements().items()},
            "items": [asdict(i) for i in self.items],
            "evidence": self.evidence.as_dict(),
            "findings": [asdict(v) for v in self.findings],
            "traffic": self.traffic,
            "coverage": self.coverage.as_dict() if self.coverage is not None else None,
            "timings": self.timings(),
            "tasks": self.tasks(),
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2), encoding="utf-8")

    def write_html(self, path: Path) -> None:
        """One self-contained HTML file (`contract_tests.report_html`) rendered from `as_dict()`."""
        from contract_tests.report_html import render

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(self.as_dict()), encoding="utf-8")

    def write_junit(self, path: Path) -> None:
        """One <testcase> per requirement, named by its id; failures carry the request as curl."""
        reqs = self.requirements()
        suite = ET.Element(
            "testsuite",
            name="a2v-contract",
            tests=str(len(reqs)),
            failures=str(sum(r.outcome is Outcome.FAILED for r in reqs.values())),
            errors=str(sum(r.outcome in (Outcome.BLOCKED, Outcome.INCONCLUSIVE) for r in reqs.values())),
            skipped=str(sum(r.outcome is Outcome.SKIPPED for r in reqs.values())),
            time=f"{(self.finished or time.time()) - self.started:.3f}",
        )
        props = ET.SubElement(suite, "properties")
        for name, value in self.identity().items():
            ET.SubElement(props, "property", name=f"run.{name}", value=str(value or ""))
        if self.coverage is not None:
            for name, value in self.coverage.properties():
                ET.SubElement(props, "property", name=name, value=value)
        for r in reqs.values():
            group = REQUIREMENTS[r.id].group if r.id in REQUIREMENTS else "other"
            case = ET.SubElement(
                suite, "testcase", name=r.id, classname=f"a2v.{group}", time=f"{r.duration:.3f}"
            )
            detail = [f'spec {r.pointer}: "{r.quote}"']
            for v in r.violations:
                detail += [v.message, f"expected: {v.expected}", f"got: {v.got}", f"request: {v.curl}"]
            detail += r.notes
            if r.outcome is Outcome.FAILED:
                first = r.violations[0].message if r.violations else r.title
                ET.SubElement(case, "failure", message=first[:300]).text = "\n".join(detail)
            elif r.outcome in (Outcome.BLOCKED, Outcome.INCONCLUSIVE):
                ET.SubElement(
                    case, "error", message=(r.notes[0] if r.notes else str(r.outcome))[:300]
                ).text = "\n".join(detail)
            if r.outcome is Outcome.PASSED:
                props = ET.SubElement(case, "properties")
                ET.SubElement(props, "property", name="observations", value=str(r.observations))
            elif r.outcome is Outcome.SKIPPED:
                ET.SubElement(case, "skipped", message=(r.notes[0] if r.notes else "skipped")[:300])
        path.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _rank(outcome: Outcome) -> int:
    return list(Outcome).index(outcome)


def _unique(violations: list[Violation]) -> list[Violation]:
    seen = set()
    out = []
    for v in violations:
        key = (v.message, v.curl)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out
