"""The audit log's domain functions (docs/formats.md): append, checkpoints, proofs, entries.

`append` runs inside the caller's transaction, so the action and its entry commit together;
any failure propagates and the caller's unit of work rolls the action back — there is no
unaudited access.  It queues the entry (`audit_queue`) without taking any shared lock, so
concurrent actions do not wait for each other; the sequencer (`sequencer`) gives it its log
index after the commit.  Everything that reads the log sequences first ("sequence, then
read"), so a read sees every entry committed before it.

`record` is the convenience the domain code uses: it builds the entry from the context (clock,
region, request id, holder key) and an authenticated client.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import Select, select, union
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from formats import merkle
from formats.merkle import extends, leaf_hash
from formats.privacy import mask_id_numbers, mask_in
from license_svc.audit import sequencer, store
from license_svc.audit.checkpoint import NoteSigner, log_signer, sign_checkpoint
from license_svc.audit.entries import Actor, AuditEntry, AuditError, AuditUnavailable
from license_svc.audit.holder import HolderKey, load_holder_key
from license_svc.audit.models import AuditCheckpoint, AuditEntryRow
from license_svc.request_context import current_request_id, operator_for
from verification.tlog import Checkpoint

log = logging.getLogger(__name__)


class AuditNotFound(AuditError):
    code = "audit-not-found"


class AuditBadRequest(AuditError):
    code = "audit-bad-request"


# ----------------------------------------------------------------------------------- append

_fault: BaseException | None = None


@contextmanager
def failing_appends(exc: BaseException | None = None):
    """Test seam: make every `append` raise, to prove the caller's action rolls back."""
    global _fault
    _fault = exc or AuditError("injected audit write failure", "注入的审计写入故障")
    try:
        yield
    finally:
        _fault = None


def append(session: Session, entry: AuditEntry) -> int:
    """Append `entry` in the caller's transaction; returns its queue id (an int >= 1).

    Not the log index: that is assigned by the sequencer after the caller commits (`index_of`
    finds it).  One INSERT, no shared lock."""
    return append_many(session, [entry])[0]


def append_many(session: Session, entries: list[AuditEntry]) -> list[int]:
    """Append several entries (one action touching several licences) in one INSERT; returns
    their queue ids, in order.  The sequencer keeps that order, though other actions' entries
    may get indexes in between (ids are drawn from one sequence by every transaction)."""
    leaves = [e.leaf() for e in entries]  # validates before anything is written
    if _fault is not None:
        raise _fault
    if not leaves:
        return []
    try:
        return _enqueue(session, leaves, entries)
    except SQLAlchemyError as exc:
        log.error("audit entry could not be written; the action rolls back: %s",
                  type(exc).__name__, exc_info=True)
        raise AuditUnavailable() from exc


def _enqueue(session: Session, leaves: list[bytes], entries: list[AuditEntry]) -> list[int]:
    return store.enqueue(session, [{
        "leaf": leaf, "leaf_hash": leaf_hash(leaf), "time": e.time, "action": e.action,
        "outcome": e.outcome, "actor_org": e.actor.org_code, "licence_id": e.licence_id,
        "holder_ref": e.holder_ref} for leaf, e in zip(leaves, entries)])


def sequence_pending(session: Session) -> int:
    """Give every entry committed so far its log index before `session` reads the log (see
    `sequencer.sequence_pending`).  Call it before reading `audit_entries` directly."""
    return sequencer.sequence_pending(session)


def sequence(ctx) -> int:
    """Sequence everything committed so far, in transactions of its own (background task, CLI)."""
    return sequencer.drain(ctx.engine)


def index_of(session: Session, queue_id: int) -> int:
    """The log index of the entry `append`/`record` returned `queue_id` for, once committed."""
    idx = store.index_of(session, queue_id)
    if idx is None:
        sequence_pending(session)
        idx = store.index_of(session, queue_id)
    if idx is None:
        raise AuditNotFound(f"queue entry {queue_id} is not in the log (not committed?)",
                            f"排队条目 {queue_id} 不在日志中（未提交？）")
    return idx


def holder_reference(ctx, holder_code: str) -> str:
    """The keyed reference of `holder_code`; the region's key is read once per service."""
    key = ctx.caches.get(HolderKey, lambda: load_holder_key(ctx.settings))
    return key.reference(holder_code)


def _masked(value: str | None) -> str | None:
    return None if value is None else mask_id_numbers(value)


def record(ctx, session: Session, *, action: str, client=None, org_code: str | None = None,
           operator: str | None = None, outcome: str = "success", licence_id: str | None = None,
           holder_code: str | None = None, purpose: str | None = None,
           legal_basis: str | None = None, grant_id: str | None = None, channel: str = "api",
           source_region: str | None = None, request_id: str | None = None,
           detail: dict[str, Any] | None = None) -> int:
    """Build an entry from the context and an authenticated `client` (auth.Client) and append it;
    returns its queue id (truthy; the log index comes after commit, see `append`).
    The holder code is turned into its keyed reference here and goes no further.  Every free-text
    value (a forged QR's identifier or cti, a caller's operator name, the detail) passes the
    service's ID-number filter here, so hostile text is recorded masked instead of making the
    entry, and with it the action, fail (issue 14 item 5)."""
    if request_id is None:
        request_id = current_request_id()
    if client is not None:
        # A clerk signed in on the pages: the person the identity provider vouched for is the
        # operator, whatever a request body claims (license_svc.request_context).
        operator = operator_for(client.client_id) or operator
    # A citizen's client has no organisation; its entries still need an actor org (the schema).
    actor = Actor(org_code=org_code or ((client.org_code or "citizen") if client
                                        else f"license-svc/{ctx.region}"),
                  client_id=client.client_id if client else None, operator=_masked(operator))
    entry = AuditEntry(
        time=ctx.now(), actor=actor, action=action, outcome=outcome, licence_id=_masked(licence_id),
        holder_ref=holder_reference(ctx, holder_code) if holder_code else None,
        purpose=_masked(purpose), legal_basis=_masked(legal_basis), grant_id=_masked(grant_id),
        channel=channel, source_region=source_region or (client.region if client else ctx.settings.region),
        request_id=_masked(request_id), detail=mask_in(detail or {}))
    return append(session, entry)


# ------------------------------------------------------------------------------ checkpoints

def publish_checkpoint(session: Session, signer: NoteSigner, now: datetime) -> Checkpoint | None:
    """Sign a checkpoint for the current tree if it grew since the last one (or none exists).

    Before signing, the new root is checked to be consistent with the last signed checkpoint;
    a log must never sign two inconsistent trees, so a damaged node store stops here.
    Entries committed before the call are sequenced first, so the checkpoint covers them."""
    sequence_pending(session)
    size = store.tree_size(session)
    last = store.latest_checkpoint(session)
    if last is not None and last.size >= size:
        return None
    root = store.with_nodes(session, lambda node: merkle.root(size, node))
    if last is not None:
        proof = store.with_nodes(session, lambda node: merkle.consistency_path(last.size, size, node))
        if not extends(last.size, size, bytes(last.root), root, proof):
            raise store.AuditIntegrityError(
                f"tree at size {size} is inconsistent with checkpoint {last.size}; not signing",
                f"树（大小 {size}）与已签名检查点（大小 {last.size}）不一致，拒绝签名")
    cp = Checkpoint(signer.name, size, root)
    note = sign_checkpoint(cp, signer)
    try:
        with session.begin_nested():
            session.add(AuditCheckpoint(size=size, root=root, note=note.decode("utf-8"), created_at=now))
    except IntegrityError:  # another publisher signed this size first
        return None
    return cp


def publish(ctx) -> Checkpoint | None:
    """`publish_checkpoint` in its own transaction with the region's audit-log key."""
    signer = log_signer(ctx.keystore, ctx.region)
    with ctx.unit_of_work() as session:
        return publish_checkpoint(session, signer, ctx.now())


def latest_checkpoint_note(session: Session) -> bytes:
    """The latest signed checkpoint with the witness cosignatures gathered for it (extra
    signature lines: readers that do not know the witnesses ignore them)."""
    from license_svc.audit.witness import with_cosignatures

    row = store.latest_checkpoint(session)
    if row is None:
        raise AuditNotFound("no checkpoint published yet", "尚未发布检查点")
    return with_cosignatures(session, row.size, row.note).encode("utf-8")


class CheckpointPublisher:
    """The log's background task (started by the app), in a daemon thread: sequences queued
    entries every `sequence_interval` seconds when there are any, and publishes a checkpoint
    every `interval` seconds (which sequences first)."""

    def __init__(self, publish_once: Callable[[], object], interval: float = 5.0, *,
                 sequence_once: Callable[[], object] | None = None, sequence_interval: float = 1.0):
        self._publish_once = publish_once
        self._sequence_once = sequence_once
        self.interval = interval
        self.sequence_interval = min(sequence_interval, interval)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "CheckpointPublisher":
        self._thread = threading.Thread(target=self._run, name="audit-checkpoints", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        # Publish first at start, so a fresh node serves a checkpoint at once, then every interval;
        # sequence on the ticks in between.
        next_publish = time.monotonic()
        while True:
            try:
                if time.monotonic() >= next_publish:
                    next_publish = time.monotonic() + self.interval
                    self._publish_once()
                elif self._sequence_once is not None:
                    self._sequence_once()
            except Exception:  # keep going; the failure is logged for operators
                log.exception("audit sequencing or checkpoint publication failed")
            tick = self.sequence_interval if self._sequence_once is not None else self.interval
            if self._stop.wait(max(0.0, min(tick, next_publish - time.monotonic()))):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)


# ----------------------------------------------------------------------------- proofs, entries

def _current_size(session: Session, size: int, what: str) -> None:
    current = store.tree_size(session)
    if size > current:  # perhaps committed but not sequenced yet
        sequence_pending(session)
        current = store.tree_size(session)
    if size > current:
        raise AuditNotFound(f"{what} {size} is beyond the tree size {current}",
                            f"{what} {size} 超出当前树大小 {current}")


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    if not 0 <= index < size:
        raise AuditBadRequest(f"need 0 <= index < size (index {index}, size {size})",
                              f"需要 0 ≤ index < size（index {index}，size {size}）")
    _current_size(session, size, "size")
    return store.with_nodes(session, lambda node: merkle.inclusion_path(index, size, node))


def consistency_proof(session: Session, size1: int, size2: int) -> list[bytes]:
    if not 0 <= size1 <= size2:
        raise AuditBadRequest(f"need 0 <= from <= to (from {size1}, to {size2})",
                              f"需要 0 ≤ from ≤ to（from {size1}，to {size2}）")
    _current_size(session, size2, "to")
    return store.with_nodes(session, lambda node: merkle.consistency_path(size1, size2, node))


@dataclass(frozen=True)
class StoredEntry:
    index: int
    leaf: bytes

    @property
    def entry(self) -> dict:
        return json.loads(self.leaf)


def get_entry(session: Session, index: int) -> StoredEntry:
    if index < 0:
        leaf = None
    elif (leaf := store.leaf_bytes(session, index)) is None:
        sequence_pending(session)
        leaf = store.leaf_bytes(session, index)
    if leaf is None:
        raise AuditNotFound(f"no audit entry {index}", f"审计条目 {index} 不存在")
    return StoredEntry(index, leaf)


def entries_for_holder(session: Session, holder_ref: str, *, licences: Select | None = None,
                       limit: int = 100, before: int | None = None) -> list[StoredEntry]:
    """Newest first: who looked at this holder's licences (the citizen's view) — the entries
    carrying `holder_ref`, and with `licences` (a SELECT of licence identifiers: the ones the
    holder holds, whatever their position among its holders) the entries about those licences,
    whichever holder reference they carry.

    Two index-ordered top-`limit` scans (`ix_audit_entries_holder`, `ix_audit_entries_licence`)
    merged, rather than one OR that no index serves."""
    sequence_pending(session)
    limit = max(1, min(limit, 1000))
    parts = [AuditEntryRow.holder_ref == holder_ref]
    if licences is not None:
        parts.append(AuditEntryRow.licence_id.in_(licences))
    scans = []
    for where in parts:
        q = select(AuditEntryRow.idx).where(where)
        if before is not None:
            q = q.where(AuditEntryRow.idx < before)
        sub = q.order_by(AuditEntryRow.idx.desc()).limit(limit).subquery()
        scans.append(select(sub.c.idx))
    wanted = union(*scans).subquery() if len(scans) > 1 else scans[0].subquery()
    rows = session.execute(select(AuditEntryRow.idx, AuditEntryRow.leaf)
                           .where(AuditEntryRow.idx.in_(select(wanted.c.idx)))
                           .order_by(AuditEntryRow.idx.desc()).limit(limit))
    return [StoredEntry(i, bytes(leaf)) for i, leaf in rows]
