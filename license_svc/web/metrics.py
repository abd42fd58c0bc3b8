"""Prometheus metrics for HTTP traffic, labelled by route template (never by raw path,
which would both explode cardinality and put identifiers into the metrics store); and the
state of the synced trust lists, read from the database when /metrics is scraped."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

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


class TrustListCollector:
    """`license_svc_trust_list_{sequence,age_seconds,error,usable}{region}` from
    `license_svc.federation.sync.sync_overview` at scrape time.

    Why a collector and not gauges set by the sync task: the age grows between rounds, and a
    list can pass its grace with no sync running; reading at scrape time is always current.
    The federation list is the series with region="federation".  Under `serve --workers N`
    /metrics reads only the multiprocess files, so these series are absent there."""

    def __init__(self, ctx):
        self._ctx = ctx

    def describe(self):
        return []  # no describe-time database access (registration would otherwise query)

    def collect(self):
        from license_svc.federation.publish import FEDERATION_REGION
        from license_svc.federation.sync import sync_overview

        families = {
            "sequence": GaugeMetricFamily("license_svc_trust_list_sequence",
                                          "Sequence of the trust list held", labels=["region"]),
            "age_seconds": GaugeMetricFamily("license_svc_trust_list_age_seconds",
                                             "Seconds since the held list was issued",
                                             labels=["region"]),
            "error": GaugeMetricFamily("license_svc_trust_list_error",
                                       "1 when the last sync attempt failed or the list is not "
                                       "usable now (TRY_LATER)", labels=["region"]),
            "usable": GaugeMetricFamily("license_svc_trust_list_usable",
                                        "1 when the list may be used now", labels=["region"]),
        }
        try:
            overview = sync_overview(self._ctx)
        except Exception as exc:  # a scrape must not fail because the database is down
            log.warning("trust-list metrics unavailable: %s", type(exc).__name__)
            return
        lists = {FEDERATION_REGION: overview["federation"], **overview["regions"]}
        for region, state in lists.items():
            if state["sequence"] is not None:
                families["sequence"].add_metric([region], state["sequence"])
                families["age_seconds"].add_metric([region], state["age_seconds"])
            families["error"].add_metric([region], 1 if state["error"] else 0)
            families["usable"].add_metric([region], 1 if state["usable"] else 0)
        yield from families.values()


def trust_list_metrics(ctx) -> TrustListCollector:
    """Register the trust-list collector on the context's registry, once per context."""
    def build() -> TrustListCollector:
        collector = TrustListCollector(ctx)
        ctx.metrics.register(collector)
        return collector
    return ctx.caches.get(TrustListCollector, build)
