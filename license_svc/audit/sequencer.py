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

Only one sequencer runs at a time (`store.lock_sequencer`: `pg_advisory_xact_lock` on
PostgreSQL, the write lock on SQLite); others wait and then find the rows already moved.
A crash between an action's commit and the sequencing loses nothing: the queue rows stay and
the next sequencer moves them.  Sequencing runs in the background (`log.CheckpointPublisher`,
about every second when there is work) and on demand before anything reads the log
(`sequence_pending`: "sequence, then read").
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from formats import merkle
from license_svc.audit import store

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
    end = first + len(batch)
    lefts = {k for i in range(first, end) for k in merkle.completed_parents(i)}
    known = store.fetch_nodes(session, lefts & merkle.frontier(first))  # older siblings only
    node_rows = []  # parents only: the leaf hashes are copied from the queue in SQL
    for i, (_qid, leaf_hash) in enumerate(batch, start=first):
        for level, idx, h in merkle.new_nodes(i, leaf_hash, known):
            known[(level, idx)] = h
            if level:
                node_rows.append({"level": level, "idx": idx, "hash": h})
    store.move_queued(session, [qid for qid, _ in batch], first, node_rows)
    return len(batch)


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
