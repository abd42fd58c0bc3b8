"""Verification as the service offers it: the domain functions behind `license-svc verify` and
`POST /api/v1/verify`.

- `verifier_trust(ks)`: trust material for every verifier, from the key store — all four regions'
  roots, issuing CAs and CRLs (mutual recognition), their licence signers and nodes (QR), status
  signers (signed status).  Certificates only: a verifier never needs another region's keys.
  `service_trust(ctx)` is the running service's, built once.
- `status_lookup(...)`: a licence's status — from the local register when this node issued it,
  else from the issuing region's signed status response / status list (verification.status
  cache, fetched from LICENSE_SVC_PEERS through the context's peer client).
- `verify_offline(...)`: pure verification, nothing written (the CLI).
- `verify_online(...)`: the HTTP path.  Judges QR codes as of now (never a caller's `at`: an old
  screenshot must not be made fresh by asking about the past), accepts each EP1 presentation id
  (cti) once, and audits the request in the same transaction ("licence.verify", plus
  "qr.present" for a scanned presentation, so a holder sees who scanned their code).
"""

from __future__ import annotations

import dataclasses
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, true as literal_true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from formats.qr_claims import LazyRegisterFacts
from license_svc import audit
from license_svc.federation.peer_client import PeerClient
from license_svc.verdict_context import PROVINCE_REGION, describe, identifier_of
from license_svc.verify_models import SeenPresentation
from verification import dispatch
from verification.checks import QrCheck, ServiceCheck
from verification.dispatch import IMAGE, QR_TEXT, Trust, UnreadableInput
from verification.listing import TrustIndex
from verification.qr import QrSigner, QrTrust
from verification.report import TOTAL_PASSED, Report
from verification.seal import SealTrust
from verification.status import StatusCache, StatusError, StatusTrust, TRY_LATER

PEER_TIMEOUT = 3.0
_IDENTIFIER = re.compile(r"^1\.2\.156\.3005\.[0-9A-Za-z.]{1,180}$")
_RETRIES = 2


@dataclass
class VerifierTrust:
    qr: QrTrust
    seal: SealTrust
    status: StatusTrust
    regions: tuple[str, ...]
    listing: TrustIndex | None = None      # set when built from trust lists
    unavailable: tuple[str, ...] = ()      # regions whose list is missing or past its grace


# How long a built trust is used before the stored lists are looked at again: a sync or a
# withdrawal takes effect on verdicts within this time (and re-verifying every stored list
# per request would cost more than the verification).
LIST_RECHECK = timedelta(seconds=5)


class _ListTrust:
    """The running service's trust, from the synced lists; rebuilt when they change."""

    def __init__(self):
        self._lock = threading.Lock()
        self._checked: datetime | None = None
        self._fingerprint = None
        self.trust: VerifierTrust | None = None
        self.state = None

    def get(self, ctx) -> VerifierTrust:
        now = ctx.now()
        trust, checked = self.trust, self._checked
        if trust is not None and checked is not None and checked <= now < checked + LIST_RECHECK:
            return trust
        with self._lock:
            state = self._state(ctx, now)
            fingerprint = (tuple(sorted((r, res.sequence, res.ok) for r, res in
                                        state.regions.items())), tuple(state.unavailable()))
            if self.trust is None or fingerprint != self._fingerprint:
                self.trust = verifier_trust_from_lists(state.payloads(), state.unavailable())
                self._fingerprint = fingerprint
            self.state, self._checked = state, now
            return self.trust

    @staticmethod
    def _state(ctx, now: datetime):
        from license_svc.federation.sync import sync, trust_state

        with ctx.unit_of_work() as session:
            state = trust_state(ctx, session, now)
        if state.federation is None:
            # Never synced (a node's first verification before its sync task ran): one round
            # now, so the first answer is not "try later" for want of a local step.
            sync(ctx)
            with ctx.unit_of_work() as session:
                state = trust_state(ctx, session, now)
        return state


def service_trust(ctx) -> VerifierTrust:
    """The service's trust: every region — this one included — through its signed, synced
    trust list, as of now (docs/federation.md)."""
    return ctx.caches.get(_ListTrust, _ListTrust).get(ctx)


def verifier_trust(ks) -> VerifierTrust:
    """Trust straight from a key store's certificates, without lists: for tests and benchmarks
    that exercise the verifiers on the development PKI.  The service never judges with it."""
    regions = tuple(r for r in ks.regions)
    qr = QrTrust()
    status = StatusTrust()
    for item in ks.items():
        if item["region"] not in regions:
            continue
        cert = ks.certificate(item["id"])
        if item["role"] in ("licence_signer", "node"):
            qr.add(QrSigner(cert.dump(), item["role"], item["region"],
                            item.get("org_code") or None, item.get("org_name") or None))
        elif item["role"] == "status_signer":
            status.add(item["region"], cert.dump())
    roots = [c for r in regions for c in ks.roots(r)]
    seal = SealTrust(seal_maker_roots=roots, signer_roots=roots, tsa_roots=roots,
                     intermediates=[c for r in regions for c in ks.intermediates(r)],
                     crls=[c for r in regions for c in ks.crls(r)])
    return VerifierTrust(qr, seal, status, regions)


def verifier_trust_from_lists(payloads, unavailable=()) -> VerifierTrust:
    """Trust material from verified region trust lists (docs/federation.md): pass
    `license_svc.federation.sync.trust_state(ctx, session, at).payloads()`, or the payloads of
    list files the CLI verified.

    A trust list names end-entity certificates, not CAs, so they are the anchors.  Withdrawn
    entries stay (a withdrawn signer's older documents may still stand, with proof); the
    listing checks (verification.listing) decide what a withdrawal means for each signature.
    Timestamps count only from granted TSAs; status answers only from granted status signers."""
    payloads = list(payloads)
    index = TrustIndex.from_trust_lists(payloads)
    seal = SealTrust(seal_maker_roots=index.certs("seal_maker"),
                     signer_roots=index.certs("licence_signer"),
                     tsa_roots=index.certs("tsa", granted_only=True))
    return VerifierTrust(QrTrust.from_trust_lists(payloads), seal,
                         StatusTrust.from_trust_lists(payloads),
                         tuple(sorted(p["region"] for p in payloads)), index,
                         tuple(unavailable))


# -- status ---------------------------------------------------------------------------------------

def issuing_region(ks, identifier: str) -> str | None:
    """The region whose node answers for a licence: its issuer's region in the key store, else
    the province digits of the issuer's USCC."""
    from license_svc.identifiers import IdentifierError, parse_identifier

    try:
        issuer = parse_identifier(identifier).issuer_code
    except IdentifierError:
        return None
    org = next((o for o in ks.organisations() if o.code == issuer), None)
    return org.region if org is not None else PROVINCE_REGION.get(issuer[2:4])


def http_fetchers(client: PeerClient, peers: dict[str, str], timeout: float = PEER_TIMEOUT):
    """(fetch_list, fetch_response) over HTTP to the peers' public status routes.  The timeout
    is shorter than a trust-list sync's: a relying party is waiting for the answer."""
    def get(region: str, path: str, params=None) -> dict:
        base = peers.get(region)
        if not base:
            raise LookupError(f"no address for region {region}")
        return client.get_json(f"{base}{path}", params=params, timeout=timeout)

    def fetch_response(region: str, identifier: str) -> dict:
        return get(region, f"/api/v1/licences/{identifier}/status")

    def fetch_list(region: str, list_id: str) -> dict:
        _region, issuer, part = list_id.rsplit("-", 2)
        return get(region, f"/api/v1/status-lists/{issuer}", {"part": int(part)})

    return fetch_list, fetch_response


def status_cache(ctx) -> StatusCache:
    """One cache of remote status answers per running service, judged with the status signers
    of the current lists."""
    trust = service_trust(ctx).status

    def build() -> StatusCache:
        fetch_list, fetch_response = http_fetchers(ctx.peer_client, ctx.settings.peers)
        return StatusCache(trust, clock=ctx.now, fetch_list=fetch_list,
                           fetch_response=fetch_response)
    cache = ctx.caches.get(StatusCache, build)
    cache.trust = trust  # a sync may have changed the status signers
    return cache


def local_status(session: Session, identifier: str, at: datetime) -> dict | None:
    """The status in this node's own register, or None when it never issued the licence.
    One Core query (the version and its last event): it runs for every verification."""
    from license_svc.licences import lifecycle
    from license_svc.licences.models import LicenceEvent, LicenceVersion

    last = (select(LicenceEvent.status, LicenceEvent.reason, LicenceEvent.at)
            .where(LicenceEvent.identifier == identifier)
            .order_by(LicenceEvent.seq.desc()).limit(1).subquery())
    row = session.execute(select(LicenceVersion.valid_until, LicenceVersion.family,
                                 LicenceVersion.version, last.c.status, last.c.reason,
                                 last.c.at)
                          .where(LicenceVersion.identifier == identifier)
                          .join(last, literal_true())).first()
    if row is None:
        return None
    status = lifecycle.status_at(row, row, at)  # the row has the version's and event's fields
    out = {"status": status, "source": "本地登记 / local register",
           "register": LazyRegisterFacts(lambda: _register_row(session, identifier))}
    if row.reason and status in ("suspended", "revoked"):
        out["reason"] = row.reason
    if status in ("suspended", "revoked"):
        out["since"] = row.at.isoformat()
    if status == "superseded":
        out["superseded_by"] = session.scalar(select(LicenceVersion.identifier).where(
            LicenceVersion.family == row.family, LicenceVersion.version == row.version + 1))
    return out


def _register_row(session: Session, identifier: str) -> dict:
    from license_svc.licences.models import LicenceVersion

    row = session.execute(select(LicenceVersion.issued_at, LicenceVersion.data_hash,
                                 LicenceVersion.el1)
                          .where(LicenceVersion.identifier == identifier)).one()
    return {"issued_at": row.issued_at, "data_hash": row.data_hash, "el1": row.el1}


class RecordedLookup:
    """A status lookup that keeps the answers it gave, so the report's `about` can quote the
    reason and date the status source gave (the verifiers keep only the status itself)."""

    def __init__(self, lookup):
        self._lookup = lookup
        self.answers: dict[str, dict] = {}

    def __call__(self, identifier: str) -> dict:
        answer = self._lookup(identifier)
        self.answers[identifier] = answer
        return answer


def status_lookup(ks, region: str, session: Session | None, at: datetime,
                  remote: StatusCache | None):
    """`lookup(identifier)` for the verifiers: the local register for this region's licences,
    the issuing region's signed status otherwise."""
    def lookup(identifier: str) -> dict:
        if session is not None:
            local = local_status(session, identifier, at)
            if local is not None:
                return local
        owner = issuing_region(ks, identifier)
        if owner == region and session is not None:
            return {"status": "unknown", "source": "本地登记中没有此证照 / not in the local register"}
        if remote is None or owner is None:
            raise StatusError(f"no status source for region {owner or '?'} (verify online or "
                              "configure LICENSE_SVC_PEERS)",
                              f"没有 {owner or '?'} 地区的状态来源（请联网验证或配置 LICENSE_SVC_PEERS）",
                              TRY_LATER)
        return remote.lookup(identifier, owner)
    return lookup


# -- verification -------------------------------------------------------------------------------

def _trust(trust: VerifierTrust, seal_trust: SealTrust | None, lookup) -> Trust:
    return Trust(qr=trust.qr, seal=seal_trust or trust.seal, status_lookup=lookup,
                 listing=trust.listing)


def verify_offline(ks, data: bytes | None = None, *, text: str | None = None, at: datetime,
                   region: str = "sh", session: Session | None = None,
                   remote: StatusCache | None = None, trust: VerifierTrust | None = None) -> Report:
    """Verify a file's bytes or a QR text; status from `session` (local register) and `remote`.
    Without either, the status is not checked (a note says so).  Trust from the key store unless
    `trust` is given (e.g. `verifier_trust_from_lists`).  Raises UnreadableInput."""
    trust = trust or verifier_trust(ks)
    lookup = RecordedLookup(status_lookup(ks, region, session, at, remote)) \
        if session is not None or remote is not None else None
    t = _trust(trust, None, lookup)
    report = dispatch.verify_text(text, t, at) if text is not None \
        else dispatch.verify_bytes(data, t, at)
    _describe(report, ks, session, lookup, at)
    return report


def _describe(report: Report, ks, session, lookup: "RecordedLookup | None",
              at: datetime) -> dict | None:
    answers = lookup.answers if lookup is not None else {}
    return describe(report, ks=ks, session=session, status=answers.get(identifier_of(report) or ""),
             at=at)


def verify_online(ctx, client, data: bytes | None = None, *, text: str | None = None,
                  at: datetime | None = None, channel: str = "api") -> Report:
    """The HTTP verification: status live, EP1 replay refused, everything audited in the same
    transaction.  Raises UnreadableInput (after auditing the refusal) and
    dispatch.TimeOutOfRange (before looking at the input)."""
    if at is not None:
        dispatch.check_moment(at)
    kind = QR_TEXT if text is not None else _kind_or_audit(ctx, client, data, channel)
    now = ctx.now()
    moment = now if kind in (QR_TEXT, IMAGE) or at is None else at
    for attempt in range(_RETRIES):
        try:
            with ctx.unit_of_work() as session:
                report = _verify_in(ctx, session, client, kind, data, text, moment, now, channel)
            return report
        except IntegrityError:
            # Two scans of one presentation raced; the loser runs again and sees the winner's row.
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _kind_or_audit(ctx, client, data, channel) -> str:
    try:
        return dispatch.detect(data)
    except UnreadableInput:
        with ctx.unit_of_work() as session:
            audit.record(ctx, session, action="licence.verify", client=client, outcome="invalid",
                         channel=channel, detail={"kind": "unreadable",
                                                  "bytes": len(data) if data is not None else 0})
        raise


def _verify_in(ctx, session: Session, client, kind: str, data, text, moment: datetime,
               now: datetime, channel: str) -> Report:
    from license_svc.seals.status import seal_status

    ks = ctx.keystore
    lookup = RecordedLookup(status_lookup(ks, ctx.region, session, moment, status_cache(ctx)))
    # The seal registry answers for the seals this region's maker made.
    trust = service_trust(ctx)
    seal = dataclasses.replace(trust.seal, seal_status=seal_status(ctx, session))
    t = _trust(trust, seal, lookup)
    report = dispatch.verify_text(text, t, moment) if text is not None \
        else dispatch.verify_bytes(data, t, moment)
    presentation = report.licence.get("presentation") if report.subject == "qr-ep1" else None
    if presentation is not None:
        _check_replay(session, report, presentation, client, now)
    record = _describe(report, ks, session, lookup, moment)
    _audit(ctx, session, client, kind, report, channel, presentation, record)
    return report


def _check_replay(session: Session, report: Report, presentation: dict, client,
                  now: datetime) -> None:
    """Accept each presentation id once.  Only signed presentations count: a forged one cannot
    burn a genuine cti, and its failure is already in the report."""
    sig = report.check(QrCheck.EP1_SIGNATURE)
    if sig is None or not sig.passed:
        return
    cti = presentation["cti"]
    session.execute(delete(SeenPresentation).where(SeenPresentation.expires_at < now))
    seen = session.get(SeenPresentation, cti)
    if seen is not None:
        report.add(ServiceCheck.PRESENTATION_REPLAY, False, f"亮证码已于 {seen.seen_at.isoformat()} 被扫描过，这是重放 / "
                   "replayed: this presentation was already scanned; ask the holder for a fresh code",
                   failure="SIG_CONSTRAINTS_FAILURE")
        report.licence["presentation"]["replayed"] = True
        return
    expires = datetime.fromisoformat(presentation["expires_at"]) + timedelta(minutes=5)
    session.add(SeenPresentation(cti=cti, region=str(presentation.get("region", ""))[:8],
                                 seen_at=now, expires_at=max(expires, now),
                                 client_id=getattr(client, "client_id", None)))
    session.flush()
    report.add(ServiceCheck.PRESENTATION_REPLAY, True, "首次扫描（未重放）/ first scan, not replayed")
    report.licence["presentation"]["replayed"] = False


def _licence_id(report: Report) -> str | None:
    ident = report.licence.get("id") or report.licence.get("identifier")
    return ident if isinstance(ident, str) and _IDENTIFIER.match(ident) else None


def _holder_code(record: dict | None) -> str | None:
    """The (first) holder code of a licence record, for the keyed holder reference."""
    if record is None:
        return None
    holders = record.get("holders") or [{}]
    return holders[0].get("code")


def _audit(ctx, session: Session, client, kind: str, report: Report, channel: str,
           presentation: dict | None, record: dict | None) -> None:
    """`record`: the licence's record in this node's register (verdict_context.describe read
    it), None when this node did not issue it."""
    ident = _licence_id(report)
    holder = _holder_code(record) if ident is not None else None
    outcome = "success" if report.indication == TOTAL_PASSED else "invalid"
    detail = {"kind": kind, "subject": report.subject, "indication": report.indication,
              "sub_indication": report.sub_indication}
    audit.record(ctx, session, action="licence.verify", client=client, outcome=outcome,
                 licence_id=ident, holder_code=holder, channel=channel, detail=detail)
    if presentation is not None:
        replayed = presentation.get("replayed")
        audit.record(ctx, session, action="qr.present", client=client,
                     outcome="denied" if replayed else outcome, licence_id=ident,
                     holder_code=holder, channel=channel, source_region=_region(presentation),
                     detail={"cti": presentation["cti"], "replayed": bool(replayed),
                             "indication": report.indication})


def _region(presentation: dict) -> str | None:
    region = presentation.get("region")
    return region if region in PROVINCE_REGION.values() else None
