"""SQL for the audit tables: claim an index, write a leaf and its completed subtrees, read nodes.

Only INSERTs touch the append-only tables; there is no update or delete path in the code, and
the database refuses both (triggers in `models`).  Statements are Core SQL on the caller's
session so they join the caller's transaction.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from license_svc.audit import merkle
from license_svc.audit.entries import AuditError
from license_svc.audit.models import AuditCheckpoint, AuditEntryRow, AuditLogState, AuditNode
from verification.tlog import leaf_hash

entries_t = AuditEntryRow.__table__
nodes_t = AuditNode.__table__
checkpoints_t = AuditCheckpoint.__table__
state_t = AuditLogState.__table__


class AuditIntegrityError(AuditError):
    code = "audit-integrity"


def _upsert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as upsert
    else:
        raise AuditError(f"audit log needs PostgreSQL or SQLite, not {dialect}",
                         f"审计日志仅支持 PostgreSQL 或 SQLite（当前 {dialect}）")
    return upsert


def claim_indexes(session: Session, count: int = 1) -> int:
    """Grow the tree size by `count` and return the first new leaf's index.

    An upsert on the one counter row: it takes the row's lock (PostgreSQL) or the database
    write lock (SQLite) until the caller commits, which is what makes indexes consecutive and
    gap-free (a rolled-back append gives its indexes back).  Call it late in a transaction."""
    stmt = _upsert(session.get_bind().dialect.name)(state_t).values(id=1, size=count)
    stmt = stmt.on_conflict_do_update(index_elements=[state_t.c.id],
                                      set_={"size": state_t.c.size + count}).returning(state_t.c.size)
    return session.execute(stmt).scalar_one() - count


def frontier(size: int) -> set[tuple[int, int]]:
    """The perfect subtrees covering leaves [0, size): (level, index) per 1-bit of size."""
    return {(level, (size >> level) - 1) for level in range(size.bit_length()) if (size >> level) & 1}


def tree_size(session: Session) -> int:
    size = session.execute(select(state_t.c.size).where(state_t.c.id == 1)).scalar()
    return 0 if size is None else size


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


def append_leaves(session: Session, leaves: list[bytes], columns: list[dict]) -> int:
    """Claim indexes for `leaves` and insert them with every subtree hash they complete;
    returns the first index.  Four statements whatever the batch size.

    Left siblings made inside the batch come from memory, older ones (always part of the
    frontier of the tree before the batch) from the store — read in a statement of their own
    *after* the claim: a PostgreSQL statement sees the snapshot it started with, so a read
    folded into the claim (tried) misses the nodes of the append it had waited for."""
    first = claim_indexes(session, len(leaves))
    lefts = {k for i in range(first, first + len(leaves)) for k in merkle.completed_parents(i)}
    known = fetch_nodes(session, lefts & frontier(first))
    node_rows = []
    for i, leaf in enumerate(leaves, start=first):
        for level, idx, h in merkle.new_nodes(i, leaf_hash(leaf), known):
            known[(level, idx)] = h
            node_rows.append({"level": level, "idx": idx, "hash": h})
    entry_rows = [{"idx": i, "leaf": leaf, **cols}
                  for i, (leaf, cols) in enumerate(zip(leaves, columns), start=first)]
    # (Folding both inserts into one PostgreSQL statement with a data-modifying CTE was tried:
    # no faster here, SQLAlchemy's compile of the multi-row CTE ate the saved round trip.)
    session.execute(insert(entries_t), entry_rows)
    session.execute(insert(nodes_t), node_rows)
    return first


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
