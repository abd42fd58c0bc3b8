"""The audit log on the test database (SQLite, or PostgreSQL with LICENSE_SVC_TEST_DATABASE_URL):
append (queue) in the caller's transaction, sequencing into gap-free indexes under concurrency
(also with several sequencers at once, after a crash, after a failed batch), proofs checked by
the independent RFC 9162 implementation, append-only enforcement, fault injection."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from formats import merkle
from license_svc import audit
from license_svc.audit import sequencer, store
from license_svc.audit.checkpoint import log_signer
from license_svc.audit.entries import AuditEntryError
from license_svc.audit.models import AuditEntryRow, AuditQueueRow, append_only_ddl
from license_svc.auth.clients import upsert_client
from license_svc.auth.models import ApiClient
from tests.support.rfc9162 import RFCTree, rfc_leaf, rfc_verify_consistency, rfc_verify_inclusion
from verification import tlog

ORG = "91310000TEST00000X"


def entry(ctx, i: int = 0, **kw) -> audit.AuditEntry:
    values = dict(time=ctx.now(), actor=audit.Actor(ORG, "test-relying", "张三"),
                  action="licence.retrieve", licence_id=f"1.2.156.3005.2.X.{i}",
                  purpose="310100-000-001", grant_id=f"g-{i}", source_region="js",
                  request_id=f"req-{i}")
    values.update(kw)
    return audit.AuditEntry(**values)


def append_many(ctx, n: int, start: int = 0) -> None:
    with ctx.unit_of_work() as s:
        for i in range(start, start + n):
            audit.append(s, entry(ctx, i))


def leaves(ctx) -> list[bytes]:
    with ctx.unit_of_work() as s:
        audit.sequence_pending(s)
        return [bytes(x) for x in s.execute(select(AuditEntryRow.leaf).order_by(AuditEntryRow.idx)).scalars()]


def queued(ctx) -> int:
    with ctx.unit_of_work() as s:
        return s.execute(select(func.count()).select_from(AuditQueueRow)).scalar()


def test_append_queues_and_the_sequencer_gives_consecutive_indexes_and_exact_leaf(ctx):
    with ctx.unit_of_work() as s:
        qids = [audit.append(s, entry(ctx, i)) for i in range(3)]
    assert all(q >= 1 for q in qids) and qids == sorted(qids)
    assert queued(ctx) == 3 and len(leaves_unsequenced(ctx)) == 0
    with ctx.unit_of_work() as s:
        assert [audit.index_of(s, q) for q in qids] == [0, 1, 2]  # reading sequences first
    assert queued(ctx) == 0
    with ctx.unit_of_work() as s:
        got = audit.get_entry(s, 1)
    assert got.entry["grant_id"] == "g-1" and got.entry["actor"]["operator"] == "张三"
    assert got.leaf == entry(ctx, 1).leaf()
    assert got.entry["time"] == "2026-06-01T08:00:00.000Z"
    with pytest.raises(audit.AuditNotFound):
        with ctx.unit_of_work() as s:
            audit.get_entry(s, 3)


def test_single_and_batched_appends_store_identical_column_values(ctx):
    """One entry goes as driver SQL, several through Core (store.enqueue): the stored values,
    as the database itself renders them, must not depend on the path (auditors search by
    time, and on SQLite that compares text)."""
    with ctx.unit_of_work() as s:
        audit.append(s, entry(ctx, 0))
        audit.append_many(s, [entry(ctx, 0), entry(ctx, 0)])
    leaf_type = "typeof(leaf)" if ctx.engine.dialect.name == "sqlite" else "pg_typeof(leaf)::text"
    with ctx.unit_of_work() as s:
        rows = s.execute(text(
            f"SELECT CAST(time AS TEXT), {leaf_type}, leaf, leaf_hash, action, outcome, actor_org, "
            "licence_id, holder_ref FROM audit_queue ORDER BY id")).all()
    assert len(rows) == 3 and rows[0] == rows[1] == rows[2]
    assert rows[0][0].startswith("2026-06-01 08:00:00")


def test_proofs_from_the_database_verify_with_an_independent_rfc9162(ctx):
    append_many(ctx, 300)
    tree = RFCTree(leaves(ctx))
    assert [rfc_leaf(x) for x in leaves(ctx)] == list(tree.hashes)
    with ctx.unit_of_work() as s:
        for n in list(range(1, 71)) + [127, 128, 129, 255, 256, 257, 300]:
            root = tree.root(n)
            for m in {0, n // 2, n - 1}:
                proof = audit.inclusion_proof(s, m, n)
                assert rfc_verify_inclusion(tree.hashes[m], m, n, proof, root), (m, n)
            for m in {1, n // 3 or 1, n - 1} - {0, n}:
                proof = audit.consistency_proof(s, m, n)
                assert rfc_verify_consistency(m, n, tree.root(m), root, proof), (m, n)
        with pytest.raises(audit.AuditNotFound):
            audit.inclusion_proof(s, 0, 301)
        with pytest.raises(audit.AuditBadRequest):
            audit.inclusion_proof(s, 5, 5)
        with pytest.raises(audit.AuditBadRequest):
            audit.consistency_proof(s, 10, 9)


def leaves_unsequenced(ctx) -> list[bytes]:
    """What audit_entries holds without sequencing first."""
    with ctx.unit_of_work() as s:
        return [bytes(x) for x in s.execute(select(AuditEntryRow.leaf).order_by(AuditEntryRow.idx)).scalars()]


def test_batched_appends_build_the_same_tree(ctx):
    """append_many in batches of every shape, sequenced in batches of every shape, gives the
    tree that single appends give."""
    i, qids = 0, []
    for batch in (1, 2, 3, 1, 5, 8, 13, 21, 34, 1, 55, 16):
        with ctx.unit_of_work() as s:
            qids += audit.append_many(s, [entry(ctx, i + k) for k in range(batch)])
            assert audit.append_many(s, []) == []
        i += batch
        with ctx.unit_of_work() as s:
            sequencer.sequence_batch(s, limit=batch % 7 + 1)  # leave some for the next round
    with ctx.unit_of_work() as s:
        assert [audit.index_of(s, q) for q in qids] == list(range(i))
    tree = RFCTree(leaves(ctx))
    assert tree.hashes == tuple(rfc_leaf(entry(ctx, k).leaf()) for k in range(i))
    with ctx.unit_of_work() as s:
        for n in range(1, i + 1, 7):
            for m in (0, n // 2, n - 1):
                assert rfc_verify_inclusion(tree.hashes[m], m, n, audit.inclusion_proof(s, m, n), tree.root(n))


def test_checkpoints_are_signed_and_only_published_when_the_log_grew(ctx, clock):
    signer = log_signer(ctx.keystore, "sh")
    with ctx.unit_of_work() as s:
        first = audit.publish_checkpoint(s, signer, clock())
        assert first.size == 0 and first.root == merkle.EMPTY_ROOT
        assert audit.publish_checkpoint(s, signer, clock()) is None
    append_many(ctx, 5)
    with ctx.unit_of_work() as s:
        cp = audit.publish_checkpoint(s, signer, clock())
        note = audit.latest_checkpoint_note(s)
        assert audit.publish_checkpoint(s, signer, clock()) is None
    assert cp.size == 5 and cp.root == RFCTree(leaves(ctx)).root(5)
    assert note.decode().startswith(f"licence-audit/sh\n5\n")
    res = tlog.verify_checkpoint(note, [signer.verifier_key], origin="licence-audit/sh")
    assert res.ok and res.checkpoint.root == cp.root


def test_publishing_refuses_a_tree_inconsistent_with_the_last_checkpoint(ctx, clock):
    signer = log_signer(ctx.keystore, "sh")
    append_many(ctx, 4)
    with ctx.unit_of_work() as s:
        audit.publish_checkpoint(s, signer, clock())
    with tampering(ctx), ctx.unit_of_work() as s:  # someone rewrites a stored subtree hash
        s.execute(text("UPDATE audit_nodes SET hash = :h WHERE level = 2 AND idx = 0"), {"h": b"\x07" * 32})
    append_many(ctx, 1, start=4)
    with pytest.raises(store.AuditIntegrityError):
        with ctx.unit_of_work() as s:
            audit.publish_checkpoint(s, signer, clock())


def test_action_rolls_back_when_the_audit_append_fails(ctx):
    def action_with_audit(client_id):
        with ctx.unit_of_work() as s:
            upsert_client(s, client_id=client_id, name="n", region="sh", org_code=ORG, roles=["relying"])
            audit.append(s, entry(ctx))

    with audit.failing_appends():
        with pytest.raises(audit.AuditError):
            action_with_audit("rolled-back")
    assert queued(ctx) == 0
    action_with_audit("kept")
    with ctx.unit_of_work() as s:
        ids = set(s.execute(select(ApiClient.client_id)).scalars())
        assert "rolled-back" not in ids and "kept" in ids
        audit.sequence_pending(s)
        assert store.tree_size(s) == 1


def test_entry_with_an_id_number_in_clear_is_refused_and_the_action_rolls_back(ctx):
    with pytest.raises(AuditEntryError):
        with ctx.unit_of_work() as s:
            upsert_client(s, client_id="leaky", name="n", region="sh", org_code=ORG, roles=["relying"])
            audit.append(s, entry(ctx, detail={"note": "holder 11010519491231002X asked"}))
    assert queued(ctx) == 0
    with ctx.unit_of_work() as s:
        assert s.get(ApiClient, "leaky") is None
        assert store.tree_size(s) == 0


@contextmanager
def tampering(ctx):
    """What an attacker with database rights does first: switch the append-only guard off
    (and, the test databases being reused, switch it back on afterwards)."""
    tables = ("audit_entries", "audit_nodes", "audit_checkpoints")
    with ctx.engine.begin() as conn:
        pg = conn.dialect.name == "postgresql"
        if pg:
            for t in tables:
                conn.execute(text(f"ALTER TABLE {t} DISABLE TRIGGER USER"))
        else:
            for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                          "AND name LIKE 'audit_%'")).scalars().all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
    try:
        yield
    finally:
        with ctx.engine.begin() as conn:
            if pg:
                for t in tables:
                    conn.execute(text(f"ALTER TABLE {t} ENABLE TRIGGER USER"))
            else:
                for stmt in append_only_ddl("sqlite"):
                    conn.execute(text(stmt))


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET action = 'licence.verify'",
    "DELETE FROM audit_entries WHERE idx = 0",
    "UPDATE audit_nodes SET hash = hash",
    "DELETE FROM audit_checkpoints",
])
def test_database_refuses_update_and_delete(ctx, clock, statement):
    append_many(ctx, 2)
    with ctx.unit_of_work() as s:
        audit.publish_checkpoint(s, log_signer(ctx.keystore, "sh"), clock())
    with pytest.raises(Exception, match="append-only"):
        with ctx.unit_of_work() as s:
            s.execute(text(statement))
    assert len(leaves(ctx)) == 2


def test_concurrent_appends_get_consecutive_indexes_and_a_consistent_tree(ctx, clock):
    """8 writers × 125 actions, while two sequencers run over and over at the same time (the
    background one and readers' on-demand ones): exactly 1000 entries, indexes 0..999, every
    queue row sequenced once, the tree equal to the independent computation."""
    errors, got, moved = [], [], []
    lock = threading.Lock()
    writing = threading.Event()
    writing.set()

    def worker(t):
        try:
            for i in range(125):
                with ctx.unit_of_work() as s:
                    # as a real action would: read first, then audit in the same transaction
                    s.execute(select(func.count()).select_from(ApiClient)).scalar()
                    qid = audit.append(s, entry(ctx, t * 1000 + i))
                with lock:
                    got.append(qid)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    def sequencing(k):
        try:
            while writing.is_set():
                if k == 0:
                    moved.append(audit.sequence(ctx))  # the background task's call
                else:
                    with ctx.unit_of_work() as s:  # a reader's "sequence, then read"
                        moved.append(audit.sequence_pending(s))
                        store.tree_size(s)
        except Exception as exc:
            errors.append(exc)

    writers = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    sequencers = [threading.Thread(target=sequencing, args=(k,)) for k in range(2)]
    for t in writers + sequencers:
        t.start()
    for t in writers:
        t.join()
    writing.clear()
    for t in sequencers:
        t.join()
    assert not errors, errors[:3]
    assert len(set(got)) == 1000 and sum(moved) > 0  # the sequencers did work during the writes
    with ctx.unit_of_work() as s:
        cp = audit.publish_checkpoint(s, log_signer(ctx.keystore, "sh"), clock())
        assert s.execute(select(func.count()).select_from(AuditEntryRow)).scalar() == 1000
        assert s.execute(select(func.count()).select_from(AuditQueueRow)).scalar() == 0
        assert store.tree_size(s) == 1000
        rows = s.execute(select(AuditEntryRow.idx, AuditEntryRow.queue_id)).all()
    assert sorted(i for i, _ in rows) == list(range(1000))
    assert sorted(q for _, q in rows) == sorted(got)  # each queue row exactly once
    logged = leaves(ctx)
    assert sorted(logged) == sorted(entry(ctx, t * 1000 + i).leaf() for t in range(8) for i in range(125))
    tree = RFCTree(logged)
    assert cp.size == 1000 and cp.root == tree.root(1000)
    with ctx.unit_of_work() as s:  # proofs at 1000 and its neighbours, from the database
        for n in (511, 512, 513, 999, 1000):
            for m in (0, 1, n // 3, n - 2, n - 1):
                assert rfc_verify_inclusion(tree.hashes[m], m, n, audit.inclusion_proof(s, m, n), tree.root(n))
                if 0 < m < n:
                    assert rfc_verify_consistency(m, n, tree.root(m), tree.root(n),
                                                  audit.consistency_proof(s, m, n))


def test_entries_survive_a_crash_before_sequencing(ctx, ctx_factory, settings):
    """Committed actions whose process died before the sequencer ran: the queue rows are in the
    database, and the next process sequences them; nothing is lost or duplicated."""
    append_many(ctx, 7)
    ctx.engine.dispose()  # the process is gone: no connection, no background task
    later = ctx_factory(settings)
    assert queued(later) == 7 and leaves_unsequenced(later) == []
    assert audit.sequence(later) == 7
    assert audit.sequence(later) == 0  # idempotent: nothing left to move
    assert leaves(later) == [entry(ctx, i).leaf() for i in range(7)]


def test_a_failed_sequencer_batch_moves_nothing_and_the_next_one_does(ctx, monkeypatch):
    """A sequencer that dies after writing the entries but before the queue deletion (crash,
    lost connection) rolls back whole: no index is taken, the queue keeps every row."""
    append_many(ctx, 5)
    real_insert = store.move_queued

    def dies_half_way(session, ids, first, node_rows, derived=None):
        real_insert(session, ids[:2], first, node_rows[:1], derived)  # leaves 0, 1 and their parent
        raise ConnectionError("sequencer lost its connection")

    monkeypatch.setattr(store, "move_queued", dies_half_way)
    with pytest.raises(ConnectionError):
        audit.sequence(ctx)
    monkeypatch.undo()
    assert queued(ctx) == 5 and leaves_unsequenced(ctx) == []
    assert leaves(ctx) == [entry(ctx, i).leaf() for i in range(5)]
    with ctx.unit_of_work() as s:
        assert store.tree_size(s) == 5 and audit.get_entry(s, 4).entry["grant_id"] == "g-4"


def test_two_sequencers_at_once_take_turns(ctx):
    """Two sequencers started together over the same queue: one waits for the other's lock, then
    finds the rows gone — every entry is sequenced once, no duplicate, no gap."""
    append_many(ctx, 40)
    barrier = threading.Barrier(2)
    moved, errors = [], []

    def run():
        try:
            with ctx.unit_of_work() as s:
                barrier.wait()
                moved.append(sequencer.sequence_batch(s, limit=25))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(moved) == [15, 25]
    assert leaves(ctx) == [entry(ctx, i).leaf() for i in range(40)]


def test_a_lower_queue_id_still_in_flight_is_sequenced_after_higher_ones(ctx):
    """Queue ids are taken at INSERT, commits come in any order: the sequencer takes what is
    committed now and never waits for (or skips for ever) the lower id still in flight — it
    gets the next index once committed.  Indexes stay gap-free and never change."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: a later INSERT cannot commit first")
    slow = ctx.sessions()
    slow.begin()
    slow_qid = audit.append(slow, entry(ctx, 0))
    with ctx.unit_of_work() as s:
        fast_qid = audit.append(s, entry(ctx, 1))
    assert slow_qid < fast_qid
    with ctx.unit_of_work() as s:
        assert audit.index_of(s, fast_qid) == 0
        with pytest.raises(audit.AuditNotFound):
            audit.index_of(s, slow_qid)
    slow.commit()
    slow.close()
    with ctx.unit_of_work() as s:
        assert (audit.index_of(s, fast_qid), audit.index_of(s, slow_qid)) == (0, 1)
    assert leaves(ctx) == [entry(ctx, 1).leaf(), entry(ctx, 0).leaf()]


def test_holder_lookup_uses_the_keyed_reference(ctx):
    ref = audit.holder_reference(ctx, "11010519491231002x")
    assert ref == audit.holder_reference(ctx, " 11010519491231002X ")
    with ctx.unit_of_work() as s:
        audit.append(s, entry(ctx, 1, holder_ref=ref))
        audit.append(s, entry(ctx, 2))
        audit.append(s, entry(ctx, 3, holder_ref=ref, time=ctx.now() + timedelta(seconds=1)))
    with ctx.unit_of_work() as s:  # committed, not yet sequenced: the lookup sequences first
        found = audit.entries_for_holder(s, ref)
    assert [e.index for e in found] == [2, 0]
    assert all(b"11010519491231002" not in e.leaf for e in found)


def test_record_builds_the_entry_from_context_and_client(ctx, make_api_client):
    client, _ = make_api_client(["relying"], org_code=ORG)
    with ctx.unit_of_work() as s:
        qid = audit.record(ctx, s, action="licence.retrieve", client=client,
                           holder_code="11010519491231002X", licence_id="1.2.156.3005.2.X",
                           purpose="310100-000-001", grant_id="g-1", request_id="r-1")
    assert qid  # truthy, as callers that test the result expect
    with ctx.unit_of_work() as s:
        e = audit.get_entry(s, audit.index_of(s, qid)).entry
    assert e["actor"] == {"org_code": ORG, "client_id": client.client_id, "operator": None}
    assert e["holder_ref"] == audit.holder_reference(ctx, "11010519491231002X")
    assert e["source_region"] == "sh" and e["request_id"] == "r-1"
