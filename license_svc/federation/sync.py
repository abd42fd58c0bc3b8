"""Syncing peers' trust lists (docs/federation.md), and the trust a node may use from them.

`sync(ctx)` fetches the federation list (yrd-lotl/1) and checks it against the pinned federation
root certificate from the key store; then, for every region it names, fetches that region's
trust list from the node address (LICENSE_SVC_PEERS overrides the list's `node_url`, so four
nodes can run on one machine) with `If-None-Match`, and checks it against the trust-list signers
the federation list names for that region.  A list replaces the stored one only when it is
authentic, well formed and its sequence is not lower (rollback) — an equal sequence must carry
the same content (a peer signing two different lists under one number is refused).  Anything
else (bad signature, garbage, unreachable peer) leaves the last good list in place and is
recorded on its row.  This node's own region is read locally, not over HTTP, and checked the
same way.

`trust_state(ctx, session, at)` re-verifies what is stored, as of `at`: a list past
next_update beyond the grace is INDETERMINATE / TRY_LATER and its entries are not used.
`trust_state(...).payloads()` is what every verdict trusts (verify_service.service_trust);
`sync_overview(ctx)` is the per-list state for operators (/readyz, /metrics).

A node that cannot sign the federation list (an exported one-region key store) takes it from
`<keys_dir>/federation.json` when present: at start (`load_federation_file`), and in every round
after its peers, when none of them gave a list (a peer's newer list from the operator wins).

The clock is the context's (`ctx.now`), the HTTP client its `peer_client` (caps, timeouts, no
redirects) unless one is passed (tests pass one over httpx.MockTransport standing in for a peer).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from license_svc.federation.models import KIND_FEDERATION, KIND_TRUST_LIST, SyncedList
from license_svc.federation.peer_client import PeerClient, PeerError
from license_svc.config import REGIONS
from license_svc.federation.publish import (FEDERATION_FILE, FEDERATION_REGION, can_sign_federation,
                                            can_sign_trust_list, current_federation_list,
                                            current_trust_list, etag_of, published)
from formats.envelope import EnvelopeError, parse_json
from formats.canonical_json import canonical_json
from verification.checks import ServiceCheck
from verification.report import Report
from verification.trustlist import (DEFAULT_GRACE, ListResult, region_urls, trust_list_signers,
                                    verify_federation_list, verify_trust_list)

TRUST_LIST_PATH = "/api/v1/trust-list"
FEDERATION_PATH = "/api/v1/federation"
LOCAL = "local"
FILE_PREFIX = "file:"
ACCEPTED = ("updated", "unchanged", "not-modified")

log = logging.getLogger(__name__)


@dataclass
class SyncOutcome:
    kind: str
    region: str
    outcome: str  # updated | unchanged | not-modified | rejected | unreachable
    sequence: int | None = None
    url: str | None = None
    detail: str = ""

    def as_dict(self) -> dict:
        return {"kind": self.kind, "region": self.region, "outcome": self.outcome,
                "sequence": self.sequence, "url": self.url, "detail": self.detail}


def pinned_roots(ks) -> list[bytes]:
    """The federation root certificate(s) from the key store: the one thing a node must be
    configured with; everything else it learns from signed lists.  No private key needed."""
    return [ks.certificate(i["id"]).dump() for i in ks.items(role="federation_root")]


def _failed(result: ListResult) -> str:
    return "; ".join(f"{c.name}: {c.detail}" for c in result.report.checks if not c.passed)[:2000]


# -- storing ----------------------------------------------------------------------------------

def _accept(ctx, kind: str, region: str, envelope: dict, result: ListResult, etag: str | None,
            url: str) -> SyncOutcome:
    """Keep `envelope` as the newest good list if `result` allows; record why not otherwise."""
    now = ctx.now()
    with ctx.unit_of_work() as session:
        row = session.get(SyncedList, (kind, region))
        if not result.usable:
            detail = _failed(result) or "not verifiable"
            if row is not None:
                row.checked_at, row.last_error = now, detail
            return SyncOutcome(kind, region, "rejected", result.sequence, url, detail)
        if row is not None and row.sequence == result.sequence:
            stored = json.loads(row.envelope)["payload"]
            if canonical_json(stored) != canonical_json(result.payload):
                detail = (f"sequence {result.sequence} already held with different content: "
                          "refused (a list must change its sequence when it changes)")
                row.checked_at, row.last_error = now, detail
                return SyncOutcome(kind, region, "rejected", result.sequence, url, detail)
            row.etag, row.source_url, row.checked_at, row.last_error = etag, url, now, None
            return SyncOutcome(kind, region, "unchanged", result.sequence, url)
        if row is None:
            row = SyncedList(kind=kind, region=region)
            session.add(row)
        row.sequence, row.envelope = result.sequence, canonical_json(envelope).decode("utf-8")
        row.etag, row.source_url = etag, url
        row.issued_at, row.next_update = result.issued_at, result.next_update
        row.fetched_at = row.checked_at = now
        row.last_error = None
        return SyncOutcome(kind, region, "updated", result.sequence, url)


def _note(ctx, kind: str, region: str, url: str, detail: str, outcome: str) -> SyncOutcome:
    with ctx.unit_of_work() as session:
        row = session.get(SyncedList, (kind, region))
        if row is not None:
            row.checked_at = ctx.now()
            row.last_error = detail if outcome != "not-modified" else None
            sequence = row.sequence
        else:
            sequence = None
    return SyncOutcome(kind, region, outcome, sequence, url, detail)


def _stored(ctx, kind: str, region: str) -> tuple[int | None, str | None, str | None]:
    with ctx.unit_of_work() as session:
        row = session.get(SyncedList, (kind, region))
        return (row.sequence, row.etag, row.source_url) if row is not None else (None, None, None)


# -- fetching ---------------------------------------------------------------------------------

def _sync_one(ctx, client: PeerClient, kind: str, region: str, url: str, verify, local=None) -> SyncOutcome:
    """Fetch (or take `local()`), verify with `verify(envelope, known_sequence)`, store."""
    known, etag, source = _stored(ctx, kind, region)
    if local is not None:
        try:
            pub = local()
        except OSError as exc:  # the federation file went away or is unreadable
            log.warning("federation sync: %s %s unreadable: %s", kind, region, exc)
            return _note(ctx, kind, region, url, f"unreadable: {exc}", "unreachable")
        body, new_etag, status = pub.body, pub.etag, 200
    else:
        try:
            got = client.get(url, etag=etag if source == url else None)
        except PeerError as exc:
            log.warning("federation sync: %s %s unreachable: %s", kind, region, exc)
            return _note(ctx, kind, region, url, f"unreachable: {exc}", "unreachable")
        status, body, new_etag = got.status, got.body, got.etag
    if status == 304:
        if known is None:
            return _note(ctx, kind, region, url, "304 without a list we hold", "rejected")
        return _note(ctx, kind, region, url, "", "not-modified")
    try:
        envelope = parse_json(body)
    except EnvelopeError as exc:
        return _note(ctx, kind, region, url, f"{exc.message_en}", "rejected")
    result = verify(envelope, known)
    outcome = _accept(ctx, kind, region, envelope, result, new_etag, url)
    if outcome.outcome == "rejected":
        log.warning("federation sync: %s %s rejected: %s", kind, region, outcome.detail)
    return outcome


def sync(ctx, *, client: PeerClient | None = None, federation_urls: list[str] | None = None,
         grace: timedelta = DEFAULT_GRACE) -> list[SyncOutcome]:
    """One round: the federation list, then every region's trust list.  Never raises for a
    peer's failure; the outcomes say what happened to each list."""
    ks, now = ctx.keystore, ctx.now()
    roots = pinned_roots(ks)
    peers = ctx.settings.peers
    client = client or ctx.peer_client
    outcomes: list[SyncOutcome] = []
    sources: list[tuple[str, object]] = []
    if federation_urls:
        sources += [(u, None) for u in federation_urls]
    else:
        signs = can_sign_federation(ks)
        if signs:
            sources.append((LOCAL, lambda: published(ctx, current_federation_list)))
        sources += [(f"{base}{FEDERATION_PATH}", None)
                    for region, base in sorted(peers.items()) if region != ctx.region]
        # The file last: peers may pass on a newer list from the operator; when none answers
        # (or all hold an older one) the file's list is still good.
        if not signs and (path := federation_file(ctx)) is not None:
            sources.append((f"{FILE_PREFIX}{path}", _file_reader(path)))

    verify_lotl = _lotl_verifier(roots, now, grace)
    for url, local in sources:
        got = _sync_one(ctx, client, KIND_FEDERATION, FEDERATION_REGION, url, verify_lotl, local)
        outcomes.append(got)
        if got.outcome in ACCEPTED:
            break

    outcomes.append(sync_scenarios(ctx, client, roots, now, grace))

    lotl = _stored_lotl(ctx, roots, now, grace)
    if lotl is None:
        return outcomes
    for region, node_url in sorted(region_urls(lotl).items()):
        signers = trust_list_signers(lotl, region)

        def verify_list(envelope, known, region=region, signers=signers):
            return verify_trust_list(envelope, signers, now, region=region,
                                     known_sequence=known, grace=grace)
        if region == ctx.region or (not peers and can_sign_trust_list(ks, region)):
            # Our own list, or — a lone development node (no peers) on the all-regions store —
            # a region whose list key we hold: published here, verified like any peer's.
            outcomes.append(_sync_one(ctx, client, KIND_TRUST_LIST, region, LOCAL, verify_list,
                                      lambda region=region: published(
                                          ctx, lambda c, s: current_trust_list(c, s, region))))
        else:
            base = peers.get(region, node_url).rstrip("/")
            outcomes.append(_sync_one(ctx, client, KIND_TRUST_LIST, region,
                                      f"{base}{TRUST_LIST_PATH}", verify_list))
    return outcomes


def sync_scenarios(ctx, client: PeerClient | None, roots, now: datetime,
                   grace: timedelta = DEFAULT_GRACE) -> SyncOutcome:
    """The scenario list (yrd-scenarios/1), taken like the federation list: from this node when
    it holds the root key, else from each peer's `GET /api/v1/scenarios/signed` in turn, else
    from `<keys_dir>/scenarios.json`; checked against the pinned root and the stored sequence,
    kept in `federation_synced` (kind "scenarios").  The last outcome when none was accepted."""
    from license_svc.federation.publish import (KIND_SCENARIOS, SCENARIOS_FILE,
                                                current_scenario_list)
    from verification.scenarios import verify_scenario_list

    ks = ctx.keystore
    sources: list[tuple[str, object]] = []
    signs = can_sign_federation(ks)
    if signs:
        sources.append((LOCAL, lambda: published(ctx, current_scenario_list)))
    sources += [(f"{base.rstrip('/')}/api/v1/scenarios/signed", None)
                for region, base in sorted(ctx.settings.peers.items()) if region != ctx.region]
    if not signs and (path := Path(ctx.settings.keys_dir) / SCENARIOS_FILE).is_file():
        sources.append((f"{FILE_PREFIX}{path}", _file_reader(path)))

    def verify(envelope, known):
        return verify_scenario_list(envelope, roots, now, known_sequence=known, grace=grace)
    got = SyncOutcome(KIND_SCENARIOS, FEDERATION_REGION, "unreachable", detail="no source / 没有来源")
    for url, local in sources:
        got = _sync_one(ctx, client, KIND_SCENARIOS, FEDERATION_REGION, url, verify, local)
        if got.outcome in ACCEPTED:
            break
    return got


def _lotl_verifier(roots, now, grace):
    def verify_lotl(envelope, known):
        return verify_federation_list(envelope, roots, now, known_sequence=known, grace=grace)
    return verify_lotl


@dataclass(frozen=True)
class _FileBody:
    body: bytes
    etag: str


def _file_reader(path: Path):
    def read() -> _FileBody:
        body = path.read_bytes()
        return _FileBody(body, etag_of(body))
    return read


def federation_file(ctx) -> Path | None:
    """`<keys_dir>/federation.json` if there is one (written by `dev-pki export`)."""
    path = Path(ctx.settings.keys_dir) / FEDERATION_FILE
    return path if path.is_file() else None


def load_federation_file(ctx, *, grace: timedelta = DEFAULT_GRACE) -> SyncOutcome | None:
    """Take the federation list from `<keys_dir>/federation.json` into the synced lists, checked
    against the pinned root and the stored sequence like any peer's copy.  Called at start so a
    node that cannot sign the list serves one (GET /api/v1/federation) and can sync the regions
    before any peer answers.  None when the node signs the list itself or there is no file."""
    if can_sign_federation(ctx.keystore) or (path := federation_file(ctx)) is None:
        return None
    now = ctx.now()
    outcome = _sync_one(ctx, None, KIND_FEDERATION, FEDERATION_REGION,
                        f"{FILE_PREFIX}{path}", _lotl_verifier(pinned_roots(ctx.keystore), now, grace),
                        _file_reader(path))
    if outcome.outcome not in ACCEPTED:
        log.warning("federation list file %s not taken: %s %s", path, outcome.outcome, outcome.detail)
    return outcome


def _stored_lotl(ctx, roots, at, grace) -> dict | None:
    with ctx.unit_of_work() as session:
        result = _verify_stored_lotl(session, roots, at, grace)
    return result.payload if result is not None and result.usable else None


def _verify_stored_lotl(session: Session, roots, at, grace) -> ListResult | None:
    row = session.get(SyncedList, (KIND_FEDERATION, FEDERATION_REGION))
    if row is None:
        return None
    return verify_federation_list(json.loads(row.envelope), roots, at, grace=grace)


# -- using what was synced -----------------------------------------------------------------------

@dataclass
class TrustState:
    """The synced lists as of `at`, each re-verified."""

    at: datetime
    federation: ListResult | None
    regions: dict[str, ListResult] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def payloads(self) -> list[dict]:
        """Payloads of the lists that may be used now (authentic, fresh or within the grace)."""
        return [r.payload for r in self.regions.values() if r.ok]

    def unavailable(self) -> list[str]:
        """Regions whose trust cannot be established now: ask again later (TRY_LATER)."""
        return sorted(self.missing + [k for k, r in self.regions.items() if not r.ok])

    def report(self, region: str) -> Report:
        if region in self.regions:
            return self.regions[region].report
        report = Report(subject="trust-list")
        why = "尚未取得该地区的信任列表 / no trust list held for this region" \
            if self.federation is not None and self.federation.ok else \
            "没有可用的联盟列表 / no usable federation list"
        report.add(ServiceCheck.TRUST_LIST_AVAILABLE, False, why, failure="TRY_LATER", indeterminate=True)
        return report

    def as_dict(self) -> dict:
        def one(r: ListResult | None):
            if r is None:
                return None
            return {"indication": r.report.indication, "sub_indication": r.report.sub_indication,
                    "sequence": r.sequence,
                    "issued_at": r.issued_at.isoformat() if r.issued_at else None,
                    "next_update": r.next_update.isoformat() if r.next_update else None,
                    "checks": [c.as_dict() for c in r.report.checks]}
        return {"at": self.at.isoformat(), "federation": one(self.federation),
                "regions": {k: one(v) for k, v in sorted(self.regions.items())},
                "missing": self.missing, "unavailable": self.unavailable()}


def trust_state(ctx, session: Session, at: datetime | None = None,
                grace: timedelta = DEFAULT_GRACE) -> TrustState:
    at = at or ctx.now()
    roots = pinned_roots(ctx.keystore)
    lotl = _verify_stored_lotl(session, roots, at, grace)
    state = TrustState(at, lotl)
    if lotl is None or lotl.payload is None:
        # Every federation region, not only those in the key store: a one-region store names one.
        state.missing = sorted(set(REGIONS) | set(ctx.keystore.regions))
        return state
    stale_federation = not lotl.ok
    for region in sorted(region_urls(lotl.payload)):
        row = session.get(SyncedList, (KIND_TRUST_LIST, region))
        if row is None:
            state.missing.append(region)
            continue
        result = verify_trust_list(json.loads(row.envelope), trust_list_signers(lotl.payload, region),
                                   at, region=region, grace=grace)
        if stale_federation and result.ok:
            result.report.add(ServiceCheck.FEDERATION_FRESH, False, "联盟列表已过期且超过宽限期 / the federation "
                              "list is past next_update beyond the grace", failure="TRY_LATER",
                              indeterminate=True)
        state.regions[region] = result
    return state


def sync_status(ctx, session: Session) -> list[dict]:
    """What the node holds from each source and how the latest attempt went (for operators)."""
    rows = session.query(SyncedList).order_by(SyncedList.kind, SyncedList.region).all()
    return [{"kind": r.kind, "region": r.region, "sequence": r.sequence, "etag": r.etag,
             "source_url": r.source_url, "issued_at": r.issued_at.isoformat(),
             "next_update": r.next_update.isoformat(), "fetched_at": r.fetched_at.isoformat(),
             "checked_at": r.checked_at.isoformat(), "last_error": r.last_error} for r in rows]


# -- seams for the verification side and for operators --------------------------------------------

def _age(at: datetime, since: datetime | None) -> int | None:
    return None if since is None else max(0, int((at - since).total_seconds()))


def sync_overview(ctx, at: datetime | None = None, grace: timedelta = DEFAULT_GRACE) -> dict:
    """Per list (the federation list and every region's): the sequence held, its age (seconds
    since it was issued), when it was last checked and from where, the latest attempt's error,
    and whether it may be used now ("usable") or the region is TRY_LATER ("try-later").

    `error` is true when the latest attempt failed or the list is not usable now — what an
    operator should be alerted on.  Plain data, for /readyz, /metrics and the dev tools."""
    at = at or ctx.now()
    with ctx.unit_of_work() as session:
        state = trust_state(ctx, session, at, grace)
        rows = {(r.kind, r.region): r for r in session.query(SyncedList)}

    def one(kind: str, region: str, result: ListResult | None) -> dict:
        row = rows.get((kind, region))
        usable = result is not None and result.ok
        problem = None
        if not usable:
            problem = (_failed(result) if result is not None else "") or (
                "no list held / 尚未取得列表" if row is None else "not usable / 不可用")
        return {"sequence": row.sequence if row is not None else None,
                "age_seconds": _age(at, row.issued_at if row is not None else None),
                "next_update": row.next_update.isoformat() if row is not None else None,
                "checked_at": row.checked_at.isoformat() if row is not None else None,
                "source": row.source_url if row is not None else None,
                "last_error": row.last_error if row is not None else None,
                "usable": usable, "state": "usable" if usable else "try-later",
                "problem": problem,
                "error": bool((row is not None and row.last_error) or not usable)}

    regions = set(REGIONS) | set(state.regions) | set(state.missing)
    return {"at": at.isoformat(), "region": ctx.region,
            "federation": one(KIND_FEDERATION, FEDERATION_REGION, state.federation),
            "regions": {r: one(KIND_TRUST_LIST, r, state.regions.get(r)) for r in sorted(regions)},
            "unavailable": state.unavailable()}
