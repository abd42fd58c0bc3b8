"""SQL for the audit tables: queue an entry, move queued entries into the tree, read nodes.

Only INSERTs touch the append-only tables; there is no update or delete path in the code for
them, and the database refuses both (triggers in `models`).  The one DELETE is the sequencer's
removal of the queue rows it has just moved, in the same transaction.  Statements are Core SQL
on the caller's session so they join the caller's transaction.
"""

from __future__ import annotations

import functools
from typing import Iterable

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from formats import merkle
from license_svc.audit.entries import AuditError
from license_svc.audit.models import AuditCheckpoint, AuditEntryRow, AuditNode, AuditQueueRow

entries_t = AuditEntryRow.__table__
nodes_t = AuditNode.__table__
checkpoints_t = AuditCheckpoint.__table__
queue_t = AuditQueueRow.__table__

# pg_advisory_xact_lock key of the sequencer: "auditseq" as a big-endian signed 64-bit integer.
SEQUENCER_LOCK_KEY = int.from_bytes(b"auditseq", "big", signed=True)
_COPIED = "time, action, outcome, actor_org, licence_id, holder_ref"


class AuditIntegrityError(AuditError):
    code = "audit-integrity"


_ENQUEUE_MANY = insert(queue_t).returning(queue_t.c.id, sort_by_parameter_order=True)
_QUEUE_COLUMNS = tuple(c.name for c in queue_t.c if not c.primary_key)  # the id is generated


@functools.lru_cache(maxsize=8)
def _enqueue_one(dialect) -> tuple[str, tuple]:
    """The single-row INSERT in the driver's own parameter style, and the columns' bind
    processors for this dialect (the conversions a Core statement applies: UTC and SQLite's
    text format for `time`), so both paths store identical values."""
    mark = "%s" if dialect.paramstyle in ("format", "pyformat") else "?"
    sql = (f"INSERT INTO audit_queue ({', '.join(_QUEUE_COLUMNS)}) "
           f"VALUES ({', '.join([mark] * len(_QUEUE_COLUMNS))}) RETURNING id")
    return sql, tuple(queue_t.c[c].type.dialect_impl(dialect).bind_processor(dialect)
                      for c in _QUEUE_COLUMNS)


def enqueue(session: Session, rows: list[dict]) -> list[int]:
    """Insert queue rows (leaf, leaf_hash and the lookup columns); returns their ids in order.
    Takes no lock beyond the new rows themselves.

    One row (an audited action's usual case) goes as driver SQL on the session's connection:
    with 8 writer threads a process is bound by its Python time per append (the GIL), not by
    the disk, and each layer skipped counts — the ORM's execute cost 0.05 ms, Core's statement
    cache and result wrapping another ~0.06 ms, of ~0.5 ms per audited transaction
    (docs/performance.md "Audit log").  SQLAlchemy's error handling still applies (a failure is
    a DBAPIError, a dead connection invalidates the pool).  Several rows use Core's multi-row
    INSERT, which keeps their order."""
    conn = session.connection()
    if len(rows) != 1:
        return list(conn.execute(_ENQUEUE_MANY, rows).scalars())
    sql, processors = _enqueue_one(conn.dialect)
    row = rows[0]
    params = tuple(row[c] if p is None else p(row[c]) for c, p in zip(_QUEUE_COLUMNS, processors))
    return [conn.exec_driver_sql(sql, params).scalar_one()]


def lock_sequencer(session: Session) -> None:
    """Make the caller's transaction the only sequencer until it ends.

    PostgreSQL: a transaction-scoped advisory lock; the caller's *next* statement then sees
    everything the previous sequencer committed (READ COMMITTED takes a snapshot per statement,
    so the lock must be its own statement, before any read).  SQLite: the database write lock,
    taken now with BEGIN IMMEDIATE unless this connection already holds it (it wrote earlier in
    the transaction): a sequencer that read first and locked later could be overtaken."""
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQUENCER_LOCK_KEY})
    elif dialect == "sqlite":
        if not conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        raise AuditError(f"audit log needs PostgreSQL or SQLite, not {dialect}",
                         f"审计日志仅支持 PostgreSQL 或 SQLite（当前 {dialect}）")


def queue_has_rows(session: Session) -> bool:
    return session.execute(select(queue_t.c.id).limit(1)).first() is not None


def queued(session: Session, limit: int) -> list[dict]:
    """The committed queue rows this statement sees, lowest ids first: id, leaf, leaf hash and
    the lookup columns as the queue holds them (the sequencer checks them against the leaf)."""
    rows = session.execute(select(queue_t).order_by(queue_t.c.id).limit(limit)).mappings()
    return [dict(r) for r in rows]


def move_queued(session: Session, ids: list[int], first: int, node_rows: list[dict],
                derived: list[dict] | None = None) -> None:
    """Give queue rows `ids` (ascending) the indexes first, first+1, …; store their leaf hashes
    and the parent nodes `node_rows` (levels >= 1); delete them from the queue.  Entry rows and
    leaf hashes are copied inside the database (INSERT … SELECT): the leaf bytes never travel to
    the sequencer, and half the node rows cost no Python time.  Ids are ints read from the database and are
    written into the SQL as literals (a bound list of thousands of parameters costs more).

    Every statement names the rows by id, never by range: under READ COMMITTED a later
    statement sees rows committed after the `queued` read, and a range would take (or delete)
    a row that was not hashed into the tree.

    `derived` (one dict per id: leaf, leaf_hash and the lookup columns computed from the leaf)
    replaces the copy when a queue row's columns or hash disagree with its leaf: then the
    entries and leaf hashes are written from those values instead."""
    id_list = ",".join(str(int(i)) for i in ids)
    position = f"{int(first) - 1} + ROW_NUMBER() OVER (ORDER BY id)"
    if derived is None:
        moved = session.execute(text(
            f"INSERT INTO audit_entries (idx, queue_id, leaf, {_COPIED}) "
            f"SELECT {position}, id, leaf, {_COPIED} FROM audit_queue WHERE id IN ({id_list})")).rowcount
        leaves = session.execute(text(
            f"INSERT INTO audit_nodes (level, idx, hash) "
            f"SELECT 0, {position}, leaf_hash FROM audit_queue WHERE id IN ({id_list})")).rowcount
    else:
        rows = [dict(d, idx=first + n, queue_id=qid) for n, (qid, d) in enumerate(zip(ids, derived))]
        session.execute(insert(entries_t), [
            {k: r[k] for k in ("idx", "queue_id", "leaf", *_COPIED.split(", "))} for r in rows])
        session.execute(insert(nodes_t), [
            {"level": 0, "idx": r["idx"], "hash": r["leaf_hash"]} for r in rows])
        # An executemany INSERT writes every row or raises; its rowcount is -1 on psycopg's
        # batched path, so the count to compare is the rows given.
        moved = leaves = len(rows)
    if node_rows:
        session.execute(insert(nodes_t), node_rows)
    deleted = session.execute(text(f"DELETE FROM audit_queue WHERE id IN ({id_list})")).rowcount
    if not moved == leaves == deleted == len(ids):
        raise AuditIntegrityError(
            f"sequencer moved {moved}, hashed {leaves} and deleted {deleted} of {len(ids)} queue "
            f"rows; rolled back",
            f"定序器移动 {moved} 条、写入叶哈希 {leaves} 条、删除 {deleted} 条，应为 {len(ids)} 条；已回滚")


def index_of(session: Session, queue_id: int) -> int | None:
    return session.execute(select(entries_t.c.idx).where(entries_t.c.queue_id == queue_id)).scalar()


def tree_size(session: Session) -> int:
    """Sequenced entries: the highest leaf-hash index + 1 (an index scan of one row); the
    sequencer writes leaf hashes in the same transaction as the entries."""
    last = session.execute(select(nodes_t.c.idx).where(nodes_t.c.level == 0)
                           .order_by(nodes_t.c.idx.desc()).limit(1)).scalar()
    return 0 if last is None else last + 1


def fetch_nodes(session: Session, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Stored nodes by (level, index), in one query: `(level = l AND idx IN (...)) OR ...`.

    Per level, because SQLite does not use the primary key for a row-value IN; as literal
    integers in the SQL text (they are ints we computed, never input), because building the
    same condition as SQLAlchemy expressions cost 2 ms per proof, more than the query."""
    by_level: dict[int, list[int]] = {}
    for level, idx in set(keys):
        by_level.setdefault(int(level), []).append(int(idx))
    if not by_level:
        return {}
    cond = " OR ".join(f"(level = {level} AND idx IN ({','.join(map(str, sorted(idxs)))}))"
                       for level, idxs in sorted(by_level.items()))
    rows = session.execute(text(f"SELECT level, idx, hash FROM audit_nodes WHERE {cond}"))
    found = {(lv, ix): bytes(h) for lv, ix, h in rows}
    missing = sorted((lv, ix) for lv, idxs in by_level.items() for ix in idxs if (lv, ix) not in found)
    if missing:
        raise AuditIntegrityError(f"audit tree nodes missing: {missing[:5]}",
                                  f"审计日志树节点缺失：{missing[:5]}")
    return found


def with_nodes(session: Session, compute):
    """Run `compute(node)` (a merkle function) after fetching all its nodes in one query."""
    nodes = fetch_nodes(session, merkle.needed_nodes(compute))
    return compute(lambda level, index: nodes[(level, index)])


def leaf_bytes(session: Session, index: int) -> bytes | None:
    row = session.execute(select(entries_t.c.leaf).where(entries_t.c.idx == index)).scalar()
    return None if row is None else bytes(row)


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc())
                           .limit(1)).scalar()


def checkpoints(session: Session) -> list[AuditCheckpoint]:
    return list(session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size)).scalars())
