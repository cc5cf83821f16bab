"""The conformance report as one self-contained HTML file a partner can share (`--report-html`).

Rendered from the JSON report (`KitReport.as_dict()`), so what the page shows is exactly what
`--report-json` carries, and a JSON report kept from an earlier run renders the same way (`render`):

* the verdict, and the run's identity: target URL, start and end, the kit's version, the spec's SHA-256;
* one table row per requirement: id, outcome, title, the spec's pointer and quote, the evidence counts
  and, for failures, each violation with what was expected, what came back and the `curl` that sends the
  request again (the token written `$A2V_TOKEN`);
* coverage: each dimension's seen and never-seen values (operations, HTTP statuses, task statuses,
  catalog codes, headers and, when present, `optional_fields` per operation);
* one lifecycle timeline per observed task (status against seconds since its creation) and one latency
  histogram per operation, drawn as inline SVG.

Self-contained means no script, no stylesheet, font or image from anywhere: the Content-Security-Policy
of the page forbids every fetch and every script, so the page shows the same offline, in a CI artifact
viewer or attached to an email. Everything that comes from the service (messages, bodies, statuses,
ids, header values) is escaped; the policy is the second fence, should an escape ever be missed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

__all__ = ["render"]

#: No fetch of any kind, no script; inline styles only.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_OUTCOMES = ("failed", "blocked", "inconclusive", "passed", "skipped")
_COLOURS = {
    "failed": "#b3261e",
    "blocked": "#8a4b00",
    "inconclusive": "#6b5b00",
    "passed": "#1b6e2e",
    "skipped": "#5f6368",
}
#: The lanes of a lifecycle timeline, top to bottom; any other status the service sent gets a lane below.
_STATUS_ORDER = ("pending", "in_progressing", "finished", "error")
_STATUS_COLOURS = {
    "pending": "#5f6368",
    "in_progressing": "#1a73e8",
    "finished": "#1b6e2e",
    "error": "#b3261e",
}

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;
 padding:16px 24px;color:#202124;background:#fff}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dadce0}
h3{font-size:15px;margin:16px 0 4px}
code,pre{font:12px/1.4 ui-monospace,"DejaVu Sans Mono",monospace}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:6px 8px;margin:4px 0;
 border-radius:4px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:6px 8px;
 border-bottom:1px solid #eee}th{background:#f1f3f4}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.verdict{font-size:18px;font-weight:700;padding:8px 12px;border-radius:6px;display:inline-block;color:#fff}
.conforms{background:#1b6e2e}.not-conforming{background:#b3261e}
dl.identity{display:grid;grid-template-columns:max-content auto;gap:2px 16px}
dl.identity dt{font-weight:600}dl.identity dd{margin:0;word-break:break-all}
.quote{color:#3c4043;font-style:italic}.muted{color:#5f6368}.violation{margin:6px 0 10px}
.label{font-weight:600}.never{color:#b3261e}.charts{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;border:1px solid #eee;border-radius:4px;padding:4px 6px}
figcaption{font-size:12px}
"""


def _e(value: Any) -> str:
    """Text from anywhere (the service above all) as HTML text or attribute value."""
    return escape("" if value is None else str(value), quote=True)


def render(report: Mapping[str, Any]) -> str:
    """The whole page for a JSON report (`KitReport.as_dict()`)."""
    requirements: Mapping[str, Any] = report.get("requirements") or {}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>A2V conformance report: {_e(report.get('target_url') or 'unknown target')}</title>",
        f"<style>{_STYLE}</style></head><body>",
        _header(report, requirements),
        _requirements(requirements),
        _coverage(report.get("coverage")),
        _lifecycles(report.get("tasks") or {}),
        _latencies(report.get("timings") or {}),
        _findings(report.get("findings") or []),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


# -- the head: verdict and identity --------------------------------------------------------------------


def _header(report: Mapping[str, Any], requirements: Mapping[str, Any]) -> str:
    conforms = bool(report.get("conforms"))
    counts = {o: sum(1 for r in requirements.values() if r.get("outcome") == o) for o in _OUTCOMES}
    summary = ", ".join(f"{n} {o}" for o, n in counts.items() if n) or "no requirement checked"
    traffic = report.get("traffic") or {}
    identity = [
        ("Target", report.get("target_url")),
        ("Started", report.get("started")),
        ("Finished", report.get("finished")),
        ("Kit version", report.get("kit_version")),
        ("Spec SHA-256", report.get("spec_sha256")),
    ]
    if traffic:
        identity.append(
            (
                "Traffic",
                f"{traffic.get('requests', 0):g} requests, {traffic.get('answered_429', 0):g} answered 429, "
                f"{traffic.get('waited_for_windows', 0):g} s waited for rate-limit windows",
            )
        )
    rows = "".join(
        f'<dt>{_e(k)}</dt><dd id="identity-{_e(k.lower().replace(" ", "-"))}">{_e(v or "—")}</dd>'
        for k, v in identity
    )
    verdict = "Conforms" if conforms else "Does not conform"
    return (
        "<header><h1>A2V conformance report</h1>"
        f'<p><span id="verdict" class="verdict {"conforms" if conforms else "not-conforming"}">'
        f'{verdict}</span> <span id="summary">{_e(summary)}</span></p>'
        f'<dl class="identity">{rows}</dl></header>'
    )


# -- requirements ---------------------------------------------------------------------------------------


def _badge(outcome: str) -> str:
    colour = _COLOURS.get(outcome, "#5f6368")
    return f'<span class="badge" style="background:{colour}">{_e(outcome)}</span>'


def _requirements(requirements: Mapping[str, Any]) -> str:
    rows = [_requirement_row(rid, r) for rid, r in requirements.items()]
    return (
        '<section id="requirements"><h2>Requirements</h2>'
        '<table id="requirements-table"><thead><tr><th>Requirement</th><th>Outcome</th>'
        "<th>What the kit checked</th><th>Spec</th><th>Evidence</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )


def _requirement_row(rid: str, r: Mapping[str, Any]) -> str:
    outcome = str(r.get("outcome", ""))
    detail = [f"<div>{_e(r.get('title'))}</div>"]
    for v in r.get("violations") or []:
        detail.append(_violation(v))
    notes = r.get("notes") or []
    if notes and outcome != "passed":
        detail.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    evidence = r.get("evidence") or {}
    counted = "".join(f"<li>{_e(kind)}: {_e(n)}</li>" for kind, n in sorted(evidence.items()))
    return (
        f'<tr class="requirement outcome-{_e(outcome)}" id="req-{_e(rid)}" data-outcome="{_e(outcome)}">'
        f"<td><code>{_e(rid)}</code></td><td>{_badge(outcome)}</td><td>{''.join(detail)}</td>"
        f'<td><div class="quote">“{_e(r.get("quote"))}”</div>'
        f'<code class="muted">{_e(r.get("pointer"))}</code></td>'
        f"<td>{_e(r.get('observations', 0))} observations<ul>{counted}</ul></td></tr>"
    )


def _violation(v: Mapping[str, Any]) -> str:
    out = [f'<div class="violation"><div>{_e(v.get("message"))}</div>']
    if v.get("expected"):
        out.append(f'<div><span class="label">expected:</span> {_e(v["expected"])}</div>')
    if v.get("got"):
        out.append(f'<div><span class="label">got:</span><pre>{_e(v["got"])}</pre></div>')
    if v.get("curl"):
        out.append(f'<div><span class="label">reproduce:</span><pre class="curl">{_e(v["curl"])}</pre></div>')
    out.append("</div>")
    return "".join(out)


def _findings(findings: Iterable[Mapping[str, Any]]) -> str:
    listed = list(findings)
    if not listed:
        return ""
    items = "".join(f"<li><code>{_e(v.get('requirement'))}</code> {_violation(v)}</li>" for v in listed[:200])
    more = f'<p class="muted">and {len(listed) - 200} more</p>' if len(listed) > 200 else ""
    return (
        '<section id="findings"><h2>Findings on any exchange</h2><p class="muted">What the kit\'s client '
        "noticed on every answer, whatever check sent the request (each is also counted above).</p>"
        f"<ul>{items}</ul>{more}</section>"
    )


# -- coverage -------------------------------------------------------------------------------------------


def _coverage(coverage: Mapping[str, Any] | None) -> str:
    if not coverage:
        return '<section id="coverage"><h2>Coverage</h2><p class="muted">Not recorded.</p></section>'
    rows = []
    for name, value in coverage.items():
        if not isinstance(value, Mapping):
            continue
        if "seen" in value or "never_seen" in value:
            rows.append(_coverage_row(str(name), value))
        else:  # one level deeper: e.g. optional_fields per operation
            rows.extend(
                _coverage_row(f"{name}: {inner}", d) for inner, d in value.items() if isinstance(d, Mapping)
            )
    return (
        '<section id="coverage"><h2>Coverage</h2><p class="muted">What of the contract the run observed. '
        "Whatever was never seen, the verdicts above say nothing about.</p>"
        '<table id="coverage-table"><thead><tr><th>Dimension</th><th>Seen</th><th>Never seen</th></tr>'
        "</thead><tbody>" + "".join(rows) + "</tbody></table></section>"
    )


def _coverage_row(name: str, d: Mapping[str, Any]) -> str:
    seen = [str(x) for x in d.get("seen") or []]
    never = [str(x) for x in d.get("never_seen") or []]
    total = len(seen) + len(never)
    return (
        f'<tr class="coverage" data-dimension="{_e(name)}"><td>{_e(name)}<div class="muted">'
        f"{len(seen)} of {total} seen</div></td>"
        f"<td>{', '.join(f'<code>{_e(x)}</code>' for x in seen) or '—'}</td>"
        f'<td class="never">{", ".join(f"<code>{_e(x)}</code>" for x in never) or "—"}</td></tr>'
    )


# -- task lifecycles ------------------------------------------------------------------------------------


def _lifecycles(tasks: Mapping[str, Any]) -> str:
    read = {vid: reads for vid, reads in tasks.items() if any(r.get("status") is not None for r in reads)}
    ordered = sorted(
        read.items(), key=lambda item: (-len({r.get("status") for r in item[1]}), item[1][0].get("t", 0.0))
    )
    if not ordered:
        body = '<p class="muted">No task was read.</p>'
    else:
        body = '<div class="charts">' + "".join(_timeline(vid, reads) for vid, reads in ordered) + "</div>"
    unread = [vid for vid, reads in tasks.items() if reads and vid not in read]
    if unread:
        body += (
            f'<p class="muted" id="unread-tasks">{len(unread)} task(s) created and never read (their ids, '
            "from the answers of video.generate): "
            + ", ".join(f"<code>{_e(vid)}</code>" for vid in unread)
            + "</p>"
        )
    return (
        '<section id="lifecycles"><h2>Task lifecycles</h2><p class="muted">One timeline per task the run '
        "read: each read's status against the seconds since the task was created (the dashed tick at 0 is "
        "the answer of video.generate; the scale is at least one second); tasks seen in the most "
        "statuses first.</p>" + body + "</section>"
    )


def _timeline(video_id: str, reads: list[Mapping[str, Any]]) -> str:
    statuses = [r.get("status") for r in reads if r.get("status") is not None]
    # The documented statuses always, so timelines compare at a glance; then whatever else was sent.
    lanes = list(_STATUS_ORDER) + sorted({str(s) for s in statuses} - set(_STATUS_ORDER))
    start = float(reads[0].get("t") or 0.0)
    # At least a second: a task read twice within milliseconds is not drawn as if it took long.
    span = max(max(float(r.get("t") or 0.0) for r in reads) - start, 1.0)
    left, width, row = 110, 300, 16
    height = 14 + row * len(lanes) + 18

    def x(t: float) -> float:
        return left + width * (float(t) - start) / span

    def y(status: str) -> float:
        return 10 + row * lanes.index(status) + row / 2

    out = [
        f'<figure class="timeline" data-video-id="{_e(video_id)}">'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" height="{height}" '
        f'role="img" aria-label="{_e(f"status of video {video_id} against time")}">'
    ]
    for status in lanes:
        out.append(
            f'<text x="{left - 6}" y="{y(status) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{_e(status)}</text>"
            f'<line x1="{left}" x2="{left + width}" y1="{y(status):.1f}" y2="{y(status):.1f}" '
            'stroke="#eee"/>'
        )
    points = [(x(r.get("t") or 0.0), y(str(r["status"])), r) for r in reads if r.get("status") is not None]
    if len(points) > 1:
        path = f"M{points[0][0]:.1f},{points[0][1]:.1f}" + "".join(
            f" H{px:.1f} V{py:.1f}" for px, py, _ in points[1:]
        )
        out.append(f'<path d="{path}" fill="none" stroke="#9aa0a6" stroke-width="1.5"/>')
    for r in reads:
        if r.get("status") is None:
            cx = x(r.get("t") or 0.0)
            tip = _e(f"video.generate answered at {r.get('t')} s")
            out.append(
                f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="6" y2="{10 + row * len(lanes)}" stroke="#202124" '
                f'stroke-dasharray="2,2"><title>{tip}</title></line>'
            )
    for px, py, r in points:
        colour = _STATUS_COLOURS.get(str(r["status"]), "#8a4b00")
        progress = f" {r['progress']}%" if r.get("progress") is not None else ""
        label = f"{float(r.get('t') or 0.0) - start:.2f} s: {r['status']}{progress}"
        out.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}"><title>{_e(label)}</title></circle>'
        )
    base = 10 + row * len(lanes) + 12
    out.append(
        f'<text x="{left}" y="{base}" font-size="10">0 s</text>'
        f'<text x="{left + width}" y="{base}" font-size="10" text-anchor="end">{span:.2f} s</text>'
        "</svg>"
    )
    final = statuses[-1] if statuses else "never read"
    out.append(
        f"<figcaption><code>{_e(video_id)}</code> · {len(reads)} observations · last: {_e(final)}"
        "</figcaption></figure>"
    )
    return "".join(out)


# -- latencies ------------------------------------------------------------------------------------------


def _latencies(timings: Mapping[str, Any]) -> str:
    charts = [_histogram(str(op), [float(s) for s in seconds]) for op, seconds in timings.items() if seconds]
    body = '<div class="charts">' + "".join(charts) + "</div>" if charts else "<p>No request was timed.</p>"
    return (
        '<section id="latencies"><h2>Latency per operation</h2><p class="muted">Seconds from sending a '
        "request to the head of its answer, as the kit's client saw them (pacing waits excluded).</p>"
        + body
        + "</section>"
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


def _histogram(operation: str, seconds: list[float], bins: int = 20) -> str:
    ms = [s * 1000 for s in seconds]
    top = max(_percentile(ms, 0.99), 1.0)
    step = top / bins
    counts = [0] * bins
    for value in ms:
        counts[min(bins - 1, int(value / step))] += 1
    tallest = max(counts)
    left, width, height = 36, 320, 110
    bar = width / bins
    out = [
        f'<figure class="histogram" data-operation="{_e(operation)}">'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 12}" height="{height + 34}" '
        f'role="img" aria-label="{_e(f"latency histogram of {operation}")}">'
        f'<line x1="{left}" x2="{left + width}" y1="{height}" y2="{height}" stroke="#9aa0a6"/>'
        f'<text x="{left - 4}" y="14" font-size="10" text-anchor="end">{tallest}</text>'
        f'<text x="{left - 4}" y="{height}" font-size="10" text-anchor="end">0</text>'
    ]
    for i, n in enumerate(counts):
        if not n:
            continue
        h = (height - 10) * n / tallest
        lo, hi = i * step, (i + 1) * step
        edge = "+" if i == bins - 1 and max(ms) > hi else ""
        label = f"{lo:.1f} to {hi:.1f}{edge} ms: {n} answers"
        out.append(
            f'<rect x="{left + i * bar + 1:.1f}" y="{height - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
            f'fill="#1a73e8"><title>{_e(label)}</title></rect>'
        )
    out.append(
        f'<text x="{left}" y="{height + 14}" font-size="10">0 ms</text>'
        f'<text x="{left + width}" y="{height + 14}" font-size="10" text-anchor="end">{top:.1f} ms'
        f"{'+' if max(ms) > top else ''}</text></svg>"
        f"<figcaption><code>{_e(operation)}</code> · {len(ms)} answers · p50 {_percentile(ms, 0.5):.1f} ms"
        f" · p95 {_percentile(ms, 0.95):.1f} ms · max {max(ms):.1f} ms</figcaption></figure>"
    )
    return "".join(out)
