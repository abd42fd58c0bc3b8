"""Prometheus metrics for HTTP traffic, labelled by route template (never by raw path,
which would both explode cardinality and put identifiers into the metrics store)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.requests = Counter("license_svc_http_requests", "HTTP requests served",
                                ("method", "route", "status"), registry=registry)
        self.latency = Histogram("license_svc_http_request_duration_seconds",
                                 "HTTP request latency", ("method", "route"), buckets=_BUCKETS,
                                 registry=registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


def http_metrics(ctx) -> HttpMetrics:
    """One set per context: creating the app twice on one context must not register twice."""
    existing = getattr(ctx, "_http_metrics", None)
    if existing is None:
        existing = HttpMetrics(ctx.metrics)
        ctx._http_metrics = existing
    return existing
