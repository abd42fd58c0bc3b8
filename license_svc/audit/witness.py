"""Witnessing other regions' audit logs (issue 13 part 4; docs/formats.md "Witnesses").

Why: a log operator holding its own signing key can show different trees to different people,
or cut its log back and sign again; its signature alone proves nothing against that.  Each node
therefore witnesses the other regions' logs, in the manner of c2sp.org/tlog-witness: it keeps,
per peer origin, the last checkpoint it cosigned, and cosigns a new one only after checking
the log's signature (the peer's `audit_log` certificate from its synced trust list) and an
RFC 9162 consistency proof from the cosigned tree to the new one.  A checkpoint that cannot be
consistent with what it cosigned (same size and another root, a smaller tree, a proof that
fails) is refused and kept as evidence (an incident: audited, on /metrics, listed by
`license-svc audit incidents`).

Protocol (witness pulls, then pushes the cosignature): every `witness_interval` seconds the
node fetches each peer's `GET /api/v1/audit/checkpoint` and, when needed,
`GET /api/v1/audit/proof/consistency?from=&to=`; after cosigning it POSTs the note with its
signature line to the peer's `POST /api/v1/audit/cosignature`.  The peer checks the line with
the witness's `witness` certificate from the witness's trust list, keeps it, and serves it
under its checkpoint.  Pulling needs no new trust relation: every node already fetches every
peer's trust list.

The judgement (`judge`) is a pure function of the cosigned state, the new note, the keys and a
proof source, so it is tested without processes (tests/license_svc/test_audit_witness.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from formats import algorithms as alg
from formats.merkle import HASH_SIZE, extends
from license_svc.audit.checkpoint import (ORIGIN_PREFIX, WITNESS_PREFIX, NoteSigner, origin_for,
                                          witness_signer)
from license_svc.audit.entries import AuditError
from license_svc.audit.models import (AuditCheckpoint, AuditCosignature, WitnessIncident,
                                      WitnessState)
from verification.tlog import (Checkpoint, Note, NoteFormatError, NoteKey, parse_checkpoint,
                               parse_checkpoint_text, parse_note, verify_note)

log = logging.getLogger(__name__)

WITNESS_INTERVAL_SECONDS = 10.0   # override: LICENSE_SVC_WITNESS_INTERVAL_SECONDS (0: off)
CHECKPOINT_PATH = "/api/v1/audit/checkpoint"
CONSISTENCY_PATH = "/api/v1/audit/proof/consistency"
COSIGNATURE_PATH = "/api/v1/audit/cosignature"
INCIDENT_KINDS = ("fork", "rollback", "truncation", "bad-proof", "bad-signature")
POST_TIMEOUT = 5.0


class WitnessError(AuditError):
    code = "audit-witness"


def witness_interval() -> float:
    raw = os.environ.get("LICENSE_SVC_WITNESS_INTERVAL_SECONDS")
    try:
        return float(raw) if raw else WITNESS_INTERVAL_SECONDS
    except ValueError:
        return WITNESS_INTERVAL_SECONDS


def witness_name(region: str) -> str:
    return WITNESS_PREFIX + region


def region_of_witness(name: str) -> str | None:
    return name[len(WITNESS_PREFIX):] if name.startswith(WITNESS_PREFIX) else None


# ------------------------------------------------------------------------------- judgement

@dataclass(frozen=True)
class Cosigned:
    """The last checkpoint this witness cosigned for one origin."""

    size: int
    root: bytes
    note: str


@dataclass
class Verdict:
    """`cosign` True: sign `checkpoint`.  Else `kind` names an incident (None: refuse without
    evidence of misbehaviour, e.g. a note no trusted key signed) and `detail` says why."""

    cosign: bool
    checkpoint: Checkpoint | None = None
    kind: str | None = None
    detail: str = ""
    proof: list[str] = field(default_factory=list)   # base64 hashes, for the evidence


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def judge(last: Cosigned | None, note: bytes, log_keys: list[NoteKey], origin: str,
          proof_for: Callable[[int, int], list[bytes]]) -> Verdict:
    """Decide whether to cosign `note`, given the last cosigned checkpoint of `origin`.

    `proof_for(a, b)` returns the log's consistency proof between sizes a ≤ b, or raises (an
    unreachable peer: the caller skips the round; a log that cannot prove a smaller checkpoint
    extends to a cosigned one has been truncated)."""
    try:
        cp = parse_checkpoint(note)
    except NoteFormatError as exc:
        return Verdict(False, detail=f"malformed checkpoint: {exc}")
    if cp.origin != origin:
        return Verdict(False, cp, detail=f"origin {cp.origin!r}, expected {origin!r}")
    good, bad = verify_note(cp.note, log_keys)
    if bad:
        return Verdict(False, cp, "bad-signature",
                       f"日志签名无效 / the log's signature does not verify ({', '.join(bad)})")
    if not good:
        return Verdict(False, cp, detail="没有受信任日志密钥的签名 / no signature by a trusted log key")
    if last is None:
        return Verdict(True, cp, detail="first checkpoint seen (trust on first use)")
    if cp.size == last.size:
        if cp.root == last.root:
            return Verdict(True, cp, detail="same checkpoint as cosigned")
        return Verdict(False, cp, "fork", f"分叉：大小 {cp.size} 的两个检查点根不同 / fork: two "
                       f"checkpoints of size {cp.size} with different roots")
    if cp.size > last.size:
        proof = proof_for(last.size, cp.size)
        hashes = [_b64(h) for h in proof]
        if any(len(h) != HASH_SIZE for h in proof):
            return Verdict(False, cp, "bad-proof", "一致性证明格式错误 / malformed consistency proof",
                           hashes)
        if extends(last.size, cp.size, last.root, cp.root, proof):
            return Verdict(True, cp, detail=f"consistent with cosigned size {last.size}", proof=hashes)
        return Verdict(False, cp, "fork", f"分叉：大小 {cp.size} 的树不是已见证树（大小 {last.size}）的延续 / "
                       f"fork: the tree of size {cp.size} does not extend the cosigned tree of "
                       f"size {last.size}", hashes)
    # Smaller than what was cosigned: an older checkpoint served again, or a log cut back.
    try:
        proof = proof_for(cp.size, last.size)
    except Exception:  # noqa: BLE001 - the log cannot even reach the cosigned size
        proof = None
    if proof is not None and all(len(h) == HASH_SIZE for h in proof) and \
            extends(cp.size, last.size, cp.root, last.root, proof):
        return Verdict(False, cp, "rollback", f"回滚：日志发布了比已见证（大小 {last.size}）更旧的检查点（大小 "
                       f"{cp.size}）/ rollback: the log serves a checkpoint of size {cp.size}, older "
                       f"than the cosigned size {last.size}", [_b64(h) for h in proof])
    return Verdict(False, cp, "truncation", f"截断：日志树缩小到 {cp.size}，已见证大小为 {last.size} / "
                   f"truncation: the log's tree shrank to {cp.size} below the cosigned size "
                   f"{last.size}", [_b64(h) for h in proof or []])


# ---------------------------------------------------------------------- state and incidents

def last_cosigned(session: Session, origin: str) -> Cosigned | None:
    row = session.get(WitnessState, origin)
    return None if row is None else Cosigned(row.size, bytes(row.root), row.note)


def remember(session: Session, cp: Checkpoint, note: bytes, now: datetime) -> None:
    row = session.get(WitnessState, cp.origin)
    if row is None:
        session.add(WitnessState(origin=cp.origin, size=cp.size, root=cp.root,
                                 note=note.decode("utf-8"), updated_at=now))
    elif cp.size > row.size:
        row.size, row.root, row.note, row.updated_at = cp.size, cp.root, note.decode("utf-8"), now


def record_incident(ctx, session: Session, origin: str, verdict: Verdict, note: bytes,
                    last: Cosigned | None) -> WitnessIncident | None:
    """Keep the evidence once (by digest) and audit it; None when already recorded."""
    from license_svc import audit

    evidence = {"origin": origin, "kind": verdict.kind,
                "cosigned": last.note if last else None, "presented": note.decode("utf-8", "replace"),
                "proof": verdict.proof}
    text = json.dumps(evidence, ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if session.scalar(select(WitnessIncident.id).where(WitnessIncident.digest == digest)):
        return None
    row = WitnessIncident(origin=origin, kind=verdict.kind, at=ctx.now(), detail=verdict.detail,
                          evidence=text, digest=digest)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another worker recorded it first
        return None
    region = origin[len(ORIGIN_PREFIX):] if origin.startswith(ORIGIN_PREFIX) else None
    audit.record(ctx, session, action="audit.witness_incident", outcome="invalid",
                 channel="federation", source_region=region,
                 detail={"origin": origin, "kind": verdict.kind,
                         "size": verdict.checkpoint.size if verdict.checkpoint else None,
                         "cosigned_size": last.size if last else None, "evidence": digest})
    log.warning("witness refused a checkpoint", extra={"origin": origin, "kind": verdict.kind,
                                                       "detail": verdict.detail})
    return row


def incidents(session: Session, limit: int = 1000) -> list[WitnessIncident]:
    return list(session.scalars(select(WitnessIncident).order_by(WitnessIncident.id.desc())
                                .limit(limit)))


def incident_counts(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(select(WitnessIncident.origin, WitnessIncident.kind, func.count())
                           .group_by(WitnessIncident.origin, WitnessIncident.kind))
    return {(o, k): n for o, k, n in rows}


# ------------------------------------------------------------------- trust from the lists

def _granted(entries, role: str, at: datetime) -> list[bytes]:
    return [alg.load_public_key(_cert_key(e.cert_der)).spki_der() for e in entries
            if e.role == role and e.granted_at(at)]


def _cert_key(der: bytes):
    from asn1crypto import x509
    return x509.Certificate.load(der).public_key


@dataclass
class Peer:
    region: str
    url: str | None
    log_keys: list[NoteKey]
    witness_keys: list[NoteKey]


def peers(ctx, session: Session) -> dict[str, Peer]:
    """Every region with a usable synced trust list: its node address and its audit-log and
    witness keys as note keys."""
    from license_svc.federation.sync import trust_state
    from verification.trustlist import entries_of, region_urls

    at = ctx.now()
    state = trust_state(ctx, session, at)
    urls = region_urls(state.federation.payload) if state.federation and state.federation.payload else {}
    out = {}
    for region, result in state.regions.items():
        if not result.ok:
            continue
        entries = entries_of(result.payload)
        out[region] = Peer(
            region, ctx.settings.peers.get(region) or urls.get(region),
            [NoteKey(origin_for(region), k) for k in _granted(entries, "audit_log", at)],
            [NoteKey(witness_name(region), k) for k in _granted(entries, "witness", at)])
    return out


# ------------------------------------------------------------------------ the witness round

@dataclass
class WitnessOutcome:
    region: str
    outcome: str          # cosigned | unchanged | refused | incident | unreachable
    size: int | None = None
    detail: str = ""


def _proof_source(client, base: str) -> Callable[[int, int], list[bytes]]:
    def proof_for(a: int, b: int) -> list[bytes]:
        body = client.get_json(base + CONSISTENCY_PATH, params={"from": a, "to": b})
        return [base64.b64decode(h, validate=True) for h in body["hashes"]]
    return proof_for


def witness_peer(ctx, peer: Peer, signer: NoteSigner, *, client=None,
                 post: Callable[[str, bytes], None] | None = None) -> WitnessOutcome:
    """One peer: fetch, judge, cosign and deliver, or record the incident."""
    from license_svc.federation.peer_client import PeerError

    client = client or ctx.peer_client
    base = peer.url.rstrip("/")
    origin = origin_for(peer.region)
    try:
        note = client.get(base + CHECKPOINT_PATH).body
        with ctx.unit_of_work() as session:
            last = last_cosigned(session, origin)
        verdict = judge(last, note, peer.log_keys, origin, _proof_source(client, base))
    except (PeerError, KeyError, ValueError, TypeError) as exc:
        return WitnessOutcome(peer.region, "unreachable", detail=str(exc)[:300])
    cp = verdict.checkpoint
    if not verdict.cosign:
        if verdict.kind is None:
            return WitnessOutcome(peer.region, "refused", cp.size if cp else None, verdict.detail)
        with ctx.unit_of_work() as session:
            record_incident(ctx, session, origin, verdict, note, last)
        return WitnessOutcome(peer.region, "incident", cp.size, f"{verdict.kind}: {verdict.detail}")
    # Cosign the note text; keep the state first, so a failed delivery is simply retried.
    with ctx.unit_of_work() as session:
        remember(session, cp, note, ctx.now())
    signed = Note(cp.note.text, (signer.sign(cp.note.text),)).encode()
    if cp.note.signatures and any(s.name == signer.name for s in cp.note.signatures):
        return WitnessOutcome(peer.region, "unchanged", cp.size, "already cosigned")
    try:
        (post or _post)(base + COSIGNATURE_PATH, signed)
    except Exception as exc:  # noqa: BLE001 - delivery is retried next round
        return WitnessOutcome(peer.region, "unreachable", cp.size, f"delivery failed: {exc}"[:300])
    return WitnessOutcome(peer.region, "cosigned", cp.size, verdict.detail)


def _post(url: str, body: bytes) -> None:
    r = httpx.post(url, content=body, timeout=POST_TIMEOUT, follow_redirects=False,
                   headers={"Content-Type": "text/plain; charset=utf-8"})
    if r.status_code != 200:
        raise WitnessError(f"cosignature refused: HTTP {r.status_code} {r.text[:200]}",
                           f"对方拒收见证签名：HTTP {r.status_code}")


def witness_round(ctx) -> list[WitnessOutcome]:
    """Witness every other region with a usable trust list once (the background task)."""
    signer = witness_signer(ctx.keystore, ctx.region)
    with ctx.unit_of_work() as session:
        known = peers(ctx, session)
    out = []
    for region, peer in sorted(known.items()):
        if region == ctx.region or not peer.url or not peer.log_keys:
            continue
        out.append(witness_peer(ctx, peer, signer))
    return out


# -------------------------------------------------------------- the log side: cosignatures

def accept_cosignatures(ctx, session: Session, body: bytes) -> list[str]:
    """Keep the witness lines on `body` (a note of one of this log's checkpoints) that verify
    with a witness key from that witness region's trust list; returns the names kept.  A line
    from this node's own region is not a witness of itself and is ignored."""
    try:
        note = parse_note(body)
        cp = parse_checkpoint_text(note.text)
    except NoteFormatError as exc:
        raise WitnessError(f"not a checkpoint note: {exc.message_en}",
                           f"不是检查点注记：{exc.message_zh}") from None
    row = session.get(AuditCheckpoint, cp.size) if cp.origin == origin_for(ctx.region) else None
    if row is None or bytes(row.root) != cp.root or parse_note(row.note.encode()).text != note.text:
        raise WitnessError("this log signed no such checkpoint", "本日志未签署该检查点")
    known = peers(ctx, session)
    kept = []
    for sig in note.signatures:
        region = region_of_witness(sig.name)
        if region is None or region == ctx.region or region not in known:
            continue
        good, _ = verify_note(Note(note.text, (sig,)), known[region].witness_keys)
        if not good:
            continue
        if session.get(AuditCosignature, (cp.size, sig.name)) is None:
            session.add(AuditCosignature(size=cp.size, witness=sig.name, line=sig.line(),
                                         received_at=ctx.now()))
        kept.append(sig.name)
    if not kept:
        raise WitnessError("no cosignature verifies with a witness key of another region's trust list",
                           "没有可用其他地区信任列表中见证密钥验证的见证签名")
    return kept


def with_cosignatures(session: Session, size: int, note: str) -> str:
    """The stored note with the witness lines gathered for its size appended."""
    lines = list(session.scalars(select(AuditCosignature.line).where(AuditCosignature.size == size)
                                 .order_by(AuditCosignature.witness)))
    return note + "".join(lines)


def cosignature_count(session: Session) -> int:
    latest = session.scalar(select(func.max(AuditCheckpoint.size)))
    if latest is None:
        return 0
    return session.scalar(select(func.count()).select_from(AuditCosignature)
                          .where(AuditCosignature.size == latest)) or 0


class WitnessCollector:
    """/metrics: `license_svc_witness_incidents{origin,kind}` (incidents this node recorded as a
    witness) and `license_svc_audit_checkpoint_cosignatures` (witness lines on its latest
    checkpoint), read from the database at scrape time."""

    def __init__(self, ctx):
        self._ctx = ctx

    def describe(self):
        return []

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        inc = GaugeMetricFamily("license_svc_witness_incidents",
                                "Incidents recorded while witnessing peer logs",
                                labels=["origin", "kind"])
        cos = GaugeMetricFamily("license_svc_audit_checkpoint_cosignatures",
                                "Witness cosignatures on this log's latest checkpoint")
        try:
            with self._ctx.unit_of_work() as session:
                counts = incident_counts(session)
                n = cosignature_count(session)
        except Exception as exc:  # a scrape must not fail because the database is down
            log.warning("witness metrics unavailable: %s", type(exc).__name__)
            return
        for (origin, kind), count in sorted(counts.items()):
            inc.add_metric([origin, kind], count)
        cos.add_metric([], n)
        yield inc
        yield cos


def witness_metrics(ctx) -> WitnessCollector:
    """The collector on the context's registry, registered once (a context's caches)."""
    def build() -> WitnessCollector:
        collector = WitnessCollector(ctx)
        ctx.metrics.register(collector)
        return collector
    return ctx.caches.get(WitnessCollector, build)
