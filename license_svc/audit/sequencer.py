"""The sequencer: gives queued entries their final, consecutive log indexes (Trillian-style).

Why a queue and a sequencer: if every action took the next index itself, the index counter
would stay locked from the append until the action commits, so concurrent actions would wait
for each other's WAL flush one by one (~100–300 audited actions/s here).  Instead an action
inserts its entry into `audit_queue` in its own transaction — with the leaf bytes and leaf
hash already computed, and no shared row — so it still commits or fails with the action, and
concurrent actions commit (and flush) together.  A single sequencer then moves committed queue
rows into `audit_entries` in one transaction per batch: lowest queue id first, indexes
following the current tree size, the subtree hashes they complete, and the deletion of exactly
those queue rows.

Ordering.  Queue ids are allocated at INSERT, but transactions commit in any order, so when a
batch is taken, a lower id may still be in flight (its transaction not yet committed) while
higher ids are visible.  The sequencer takes *what is committed and visible now*, by id, and
never waits for gaps in ids: the in-flight row is sequenced by a later batch, after the higher
ids (ids also have permanent gaps: rolled-back inserts, sequence caching).  So the log order is
"committed, then by queue id", not "by queue id"; what is guaranteed is that tree indexes are
consecutive, gap-free, and final once assigned (a batch commits entries, nodes and the queue
deletion together, or nothing), and that no committed entry is skipped forever: every batch
takes the lowest committed ids first.

The leaf is the entry; the queue row's other columns are only lookups (the holder's access
log and the auditor's search select by them).  Someone with write access to the database could
rewrite them during the sequencing window and hide the entry from those searches, so the
sequencer recomputes the columns and the leaf hash from the leaf bytes (`formats.audit_leaf`)
and stores those; a row whose columns disagree is logged as tampering (issue 14 item 4).
`license-svc audit verify` checks the sequenced columns against the leaves again.

Only one sequencer runs at a time (`store.lock_sequencer`: `pg_advisory_xact_lock` on
PostgreSQL, the write lock on SQLite); others wait and then find the rows already moved.
A crash between an action's commit and the sequencing loses nothing: the queue rows stay and
the next sequencer moves them.  Sequencing runs in the background (`log.CheckpointPublisher`,
about every second when there is work) and on demand before anything reads the log
(`sequence_pending`: "sequence, then read").
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from formats import merkle
from formats.audit_leaf import INDEX_COLUMNS, LeafColumnsError, index_columns
from license_svc.audit import store

log = logging.getLogger(__name__)

BATCH = 5000


def sequence_batch(session: Session, limit: int = BATCH) -> int:
    """Sequence up to `limit` committed queue rows in the caller's transaction (which must
    commit for them to count); returns how many.  Call with a transaction of its own, except
    on SQLite (see `sequence_pending`)."""
    store.lock_sequencer(session)
    first = store.tree_size(session)       # read after the lock: sees the last sequencer's commit
    batch = store.queued(session, limit)
    if not batch:
        return 0
    hashes, derived = _from_leaves(batch)
    end = first + len(batch)
    lefts = {k for i in range(first, end) for k in merkle.completed_parents(i)}
    known = store.fetch_nodes(session, lefts & merkle.frontier(first))  # older siblings only
    node_rows = []  # parents only: the leaf hashes are copied from the queue in SQL
    for i, leaf_hash in enumerate(hashes, start=first):
        for level, idx, h in merkle.new_nodes(i, leaf_hash, known):
            known[(level, idx)] = h
            if level:
                node_rows.append({"level": level, "idx": idx, "hash": h})
    store.move_queued(session, [row["id"] for row in batch], first, node_rows, derived)
    return len(batch)


_LOOKUPS = tuple(c for c in INDEX_COLUMNS if c != "time")
_WIDTHS = {"action": 64, "outcome": 16, "actor_org": 256, "licence_id": 256, "holder_ref": 64}


def _agrees(row: dict, cols: dict, at: datetime) -> bool:
    """The queue row's copies equal the leaf's values (`time` to the millisecond, as the leaf
    spells it)."""
    t = row["time"]
    if not isinstance(t, datetime) or t.replace(microsecond=t.microsecond // 1000 * 1000) != at:
        return False
    return all(row[c] == cols[c] for c in _LOOKUPS)


def _from_leaves(batch: list[dict]) -> tuple[list[bytes], list[dict] | None]:
    """The leaf hashes to put in the tree, and the rows to store when any queue row's hash or
    columns disagree with its leaf (None: all agree, the fast copy in SQL is exact).  A leaf
    that is not an entry at all (only the database could have put it there) is sequenced with
    its lookup columns empty, so it is still in the tree for `audit verify` to name."""
    hashes, derived, tampered = [], [], []
    for row in batch:
        leaf = bytes(row["leaf"])
        h = merkle.leaf_hash(leaf)
        try:
            cols = index_columns(leaf)
            at = datetime.fromisoformat(cols["time"])
            if at.tzinfo is None or any(len(cols[c] or "") > w for c, w in _WIDTHS.items()):
                raise ValueError("leaf time without a zone, or a value wider than its column")
        except (LeafColumnsError, ValueError):
            cols = {"time": None, "action": "", "outcome": "", "actor_org": "",
                    "licence_id": None, "holder_ref": None}
            at = row["time"]
        if h != bytes(row["leaf_hash"]) or not _agrees(row, cols, at):
            tampered.append(row["id"])
        hashes.append(h)
        derived.append(dict(cols, time=at, leaf=leaf, leaf_hash=h))
    if not tampered:
        return hashes, None
    log.error("audit queue rows disagree with their leaves; stored the leaves' values",
              extra={"queue_ids": tampered[:20], "count": len(tampered)})
    return hashes, derived


def drain(engine: Engine, limit: int = BATCH) -> int:
    """Sequence everything committed so far, a transaction per batch; returns how many."""
    total = 0
    with Session(engine) as session:
        if not store.queue_has_rows(session):
            return 0
        session.rollback()
        while True:
            with session.begin():
                moved = sequence_batch(session, limit)
            total += moved
            if moved < limit:
                return total


def sequence_pending(session: Session) -> int:
    """"Sequence, then read": before `session` reads the log, sequence every entry committed
    before now, so the read sees them.  Costs one indexed read when the queue is empty.

    On PostgreSQL this commits in a transaction of its own (a second pooled connection, for
    the few milliseconds of a batch): the caller's transaction may hold its own queued entries
    and runs on, and the sequencer lock must not be held until the caller commits.  On SQLite
    it runs in the caller's transaction: the caller may already hold the database's one write
    lock (it audited something), which a second connection would wait on until it timed out;
    SQLite serialises writers anyway, so nothing is lost, and the moved rows commit with the
    caller."""
    if not store.queue_has_rows(session):
        return 0
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        return drain(bind)
    total = 0
    while True:
        moved = sequence_batch(session)
        total += moved
        if moved < BATCH:
            return total
