"""Prometheus metrics for HTTP traffic, labelled by route template (never by raw path,
which would both explode cardinality and put identifiers into the metrics store); errors by
problem type, issuance and verification by outcome; and the state of the synced trust lists,
read from the database when /metrics is scraped."""

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
    return ctx.caches.get(HttpMetrics, lambda: HttpMetrics(ctx.metrics))


class OutcomeMetrics:
    """What the requests came to, beyond their HTTP status (docs/operations.md "Metrics"):

    - `license_svc_problems_total{type,route,status}`: every problem+json answer by its type
      slug — a 503 `signing-key-withdrawn` and a 503 `database-unwritable` page different people;
    - `license_svc_licences_issued_total{kind,outcome}`: licences issued (`issued`) or handed back
      to an idempotent retry (`replayed`), single or batch; refusals are problems of the route;
    - `license_svc_verifications_total{subject,indication}`: reports by what was verified and
      the ETSI indication (a sudden rise of TOTAL_FAILED is forgery or a broken trust list)."""

    def __init__(self, registry: CollectorRegistry):
        self.problems = Counter("license_svc_problems", "problem+json responses by type",
                                ("type", "route", "status"), registry=registry)
        self.issued = Counter("license_svc_licences_issued", "Licences issued or replayed",
                              ("kind", "outcome"), registry=registry)
        self.verifications = Counter("license_svc_verifications", "Verification reports",
                                     ("subject", "indication"), registry=registry)

    def problem(self, slug: str, route: str, status: int) -> None:
        self.problems.labels(slug, route, str(status)).inc()

    def issuance(self, single: bool, count: int, replayed: bool) -> None:
        self.issued.labels("single" if single else "batch",
                           "replayed" if replayed else "issued").inc(count)

    def verification(self, report) -> None:
        """`report`: a verification.report.Report."""
        self.verifications.labels(str(report.subject), str(report.indication)).inc()


def outcome_metrics(ctx) -> OutcomeMetrics:
    return ctx.caches.get(OutcomeMetrics, lambda: OutcomeMetrics(ctx.metrics))


def count_problem(scope, slug: str, status: int) -> None:
    """Count a problem answer being sent within `scope` (the app's context is on app.state)."""
    ctx = getattr(getattr(scope.get("app"), "state", None), "ctx", None)
    if ctx is not None:
        route = getattr(scope.get("route"), "path", None) or "<unmatched>"
        outcome_metrics(ctx).problem(slug, route, status)


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


def _registered(ctx, collector_class):
    """`collector_class(ctx)` registered on the context's registry, once per context."""
    def build():
        collector = collector_class(ctx)
        ctx.metrics.register(collector)
        return collector
    return ctx.caches.get(collector_class, build)


def trust_list_metrics(ctx) -> TrustListCollector:
    return _registered(ctx, TrustListCollector)


class OperationsCollector:
    """What pages an operator at night, read at scrape time (docs/operations.md "Metrics"):

    - `license_svc_certificate_expiry_days{id,role,region}`: days until each key-store
      certificate with a private key (this region's and the federation's) expires;
    - `license_svc_seal_expiry_days{es_id,org_code}`: days until each active seal's validity ends;
    - `license_svc_audit_queue_entries`, `license_svc_audit_sequencing_lag_seconds` (age of the
      oldest entry not yet in the tree), `license_svc_audit_tree_size`,
      `license_svc_audit_checkpoint_age_seconds`;
    - `license_svc_status_list_slots_left{issuer}`: status-list slots an issuer has left before
      its lists run out (parts x fill limit, minus those used).

    Scrape-time, like the trust-list collector: these values change with the clock, not with
    events, and a value set by a task would be stale exactly when the task is stuck."""

    def __init__(self, ctx):
        self._ctx = ctx

    def describe(self):
        return []

    def collect(self):
        try:
            yield from self._certificates()
            yield from self._database()
        except Exception as exc:  # a scrape must not fail because the database is down
            log.warning("operations metrics unavailable: %s", type(exc).__name__)

    def _certificates(self):
        ctx, now = self._ctx, self._ctx.now()
        fam = GaugeMetricFamily("license_svc_certificate_expiry_days",
                                "Days until the certificate of a key in the key store expires",
                                labels=["id", "role", "region"])
        store = ctx.keystore
        for region in (ctx.region, "federation"):
            for item in store.items(region=region):
                if not item.get("key") or item.get("status", "valid") != "valid":
                    continue
                not_after = store.certificate(item["id"])["tbs_certificate"]["validity"]["not_after"].native
                fam.add_metric([item["id"], item["role"], region],
                               round((not_after - now).total_seconds() / 86400, 2))
        yield fam

    def _database(self):
        from sqlalchemy import func, select

        from license_svc.audit.models import AuditCheckpoint, AuditQueueRow
        from license_svc.audit.store import tree_size
        from license_svc.licences.models import LicenceVersion
        from license_svc.licences.status import LIST_FILL_LIMIT, MAX_PARTS
        from license_svc.seals.models import SealRow

        ctx, now = self._ctx, self._ctx.now()
        seals = GaugeMetricFamily("license_svc_seal_expiry_days",
                                  "Days until an active seal's validity ends", labels=["es_id", "org_code"])
        queue = GaugeMetricFamily("license_svc_audit_queue_entries", "Audit entries not yet sequenced")
        lag = GaugeMetricFamily("license_svc_audit_sequencing_lag_seconds",
                                "Age of the oldest audit entry not yet in the tree (0 when none)")
        size = GaugeMetricFamily("license_svc_audit_tree_size", "Entries in the audit tree")
        cp_age = GaugeMetricFamily("license_svc_audit_checkpoint_age_seconds",
                                   "Seconds since the latest signed checkpoint")
        slots = GaugeMetricFamily("license_svc_status_list_slots_left",
                                  "Status-list slots left for an issuer's new licences", labels=["issuer"])
        with ctx.unit_of_work() as session:
            for row in session.execute(select(SealRow.es_id, SealRow.org_code, SealRow.valid_end)
                                       .where(SealRow.status == "active")):
                seals.add_metric([row.es_id, row.org_code], round((_aware(row.valid_end) - now).total_seconds() / 86400, 2))
            pending, oldest = session.execute(select(func.count(), func.min(AuditQueueRow.time))).one()
            queue.add_metric([], pending)
            lag.add_metric([], max(0.0, (now - _aware(oldest)).total_seconds()) if oldest else 0.0)
            size.add_metric([], tree_size(session))
            latest = session.scalar(select(func.max(AuditCheckpoint.created_at)))
            if latest is not None:
                cp_age.add_metric([], max(0.0, (now - _aware(latest)).total_seconds()))
            used: dict[str, tuple[int, int]] = {}
            for lid, count in session.execute(select(LicenceVersion.status_list, func.count())
                                              .group_by(LicenceVersion.status_list)):
                issuer, part = _list_issuer_part(lid)
                if issuer is None:
                    continue
                top = used.get(issuer, (0, 0))
                if part >= top[0]:
                    used[issuer] = (part, count)
            for issuer, (part, count) in sorted(used.items()):
                slots.add_metric([issuer], (MAX_PARTS - part) * LIST_FILL_LIMIT
                                 + max(0, LIST_FILL_LIMIT - count))
        yield from (seals, queue, lag, size, cp_age, slots)



def _aware(t):
    from datetime import timezone

    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _list_issuer_part(list_id: str | None) -> tuple[str | None, int]:
    """`{region}-{issuer_code}-{part:04d}` → (issuer_code, part)."""
    parts = (list_id or "").split("-")
    if len(parts) != 3 or not parts[2].isdigit():
        return None, 0
    return parts[1], int(parts[2])


def operations_metrics(ctx) -> OperationsCollector:
    return _registered(ctx, OperationsCollector)
