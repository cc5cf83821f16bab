"""mock_server/http/metrics.py: the request series, counted in plain dicts and exposed at each scrape."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from mock_server.http.metrics import Metrics


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_requests_are_counted_by_operation_status_and_code_and_timed_in_cumulative_buckets() -> None:
    metrics = Metrics()
    for seconds in (0.0004, 0.001, 0.003, 0.02, 20.0):  # 0.001 is in the bucket `le="0.001"`
        metrics.observe_request("video.get", 200, 0, seconds)
    metrics.observe_request("other", 404, None, 0.001)
    samples = _samples(metrics)
    get = (("operation", "video.get"),)
    assert (
        samples[("a2v_requests_total", (("code", "0"), ("operation", "video.get"), ("status", "200")))] == 5
    )
    assert samples[("a2v_requests_total", (("code", ""), ("operation", "other"), ("status", "404")))] == 1
    buckets = {
        le: samples[("a2v_request_seconds_bucket", (("le", le), *get))]
        for le in ("0.001", "0.005", "10.0", "+Inf")
    }
    assert buckets == {"0.001": 2, "0.005": 3, "10.0": 4, "+Inf": 5}
    assert samples[("a2v_request_seconds_count", get)] == 5
    assert abs(samples[("a2v_request_seconds_sum", get)] - 20.0244) < 1e-9
