"""Audit-log benchmark: audited appends/s with checkpointing, and inclusion-proof time as the log grows.

    python bench/audit.py                        # SQLite, and PostgreSQL if reachable (~2 min)
    python bench/audit.py --backends sqlite      # one backend
    python bench/audit.py --sizes 1000,100000    # skip the 10^6 build
    python bench/audit.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

References measured in the same run, next to each figure:
- appends: a raw single-row INSERT committed per transaction into a scratch table on the same
  database (what any durable write costs there: the commit's WAL flush dominates), and raw SM3
  hashes/s of an entry-sized input;
- proofs: one indexed primary-key SELECT of a single row on the same node table.

Appends: every transaction holds one `audit.append` (the worst case: one audited action per
commit) while a background publisher signs a checkpoint every second, as the service does; a
single thread, then 8 threads (PostgreSQL), then 10 appends per transaction (a retrieval of
several licences).  Sizes: building 10^6 entries through `append` would take ~10 minutes, and
proofs read only the stored subtree hashes, so the size test computes leaf hashes of synthetic
entries and every perfect-subtree hash in memory (merkle.new_nodes, the same code append uses),
bulk-inserts them (COPY on PostgreSQL, executemany on SQLite) and sets the counter.  It then
times `inclusion_proof` (one batched SELECT of O(log n) nodes plus hashing) at random indexes,
and checks a sample of the proofs against the root.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from license_svc import audit
from license_svc.audit import merkle, store
from license_svc.audit.checkpoint import NoteSigner
from license_svc.audit.log import CheckpointPublisher
from license_svc.db import Base, make_engine, make_session_factory, unit_of_work
from signing import algorithms as alg
from verification import tlog

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
AUDIT_TABLES = ("audit_entries", "audit_nodes", "audit_checkpoints", "audit_log_state")
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def sample_entry(i: int) -> audit.AuditEntry:
    return audit.AuditEntry(
        time=NOW, actor=audit.Actor("91310000MA1FL5LX3E", "js-relying", "王五"),
        action="licence.retrieve", licence_id=f"1.2.156.3005.2.11100000000013338W.SH{i:010d}.001.K",
        holder_ref="%064x" % i, purpose="310100-000-001", legal_basis="《长三角电子证照互认共享办法》",
        grant_id=f"grant-{i}", channel="federation", source_region="js", request_id=f"req-{i:012d}")


class Backend:
    def __init__(self, name: str, url: str):
        self.name, self.url = name, url
        self.engine = make_engine(url)
        self.sessions = make_session_factory(self.engine)

    def reset(self) -> None:
        tables = [Base.metadata.tables[t] for t in AUDIT_TABLES]
        with self.engine.begin() as conn:
            if self.name == "postgresql":
                conn.execute(text("DROP FUNCTION IF EXISTS audit_append_only() CASCADE"))
            for t in AUDIT_TABLES + ("bench_raw",):
                conn.execute(text(f"DROP TABLE IF EXISTS {t}"))
        Base.metadata.create_all(self.engine, tables=tables)
        with self.engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, data BYTEA)"
                              if self.name == "postgresql" else
                              "CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, data BLOB)"))

    def close(self) -> None:
        self.engine.dispose()


def raw_insert_rate(b: Backend, seconds: float) -> float:
    payload = sample_entry(0).leaf()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        with b.engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_raw (id, data) VALUES (:i, :d)"), {"i": n, "d": payload})
        n += 1
    return n / (time.perf_counter() - t0)


def sm3_rate(seconds: float) -> float:
    data = b"\x00" + sample_entry(0).leaf()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(1000):
            alg.sm3(data)
        n += 1000
    return n / (time.perf_counter() - t0)


def append_rate(b: Backend, signer: NoteSigner, seconds: float, threads: int, per_txn: int,
                sessions=None) -> tuple[float, int]:
    """Audited appends/s with a checkpoint publisher running every second."""
    sessions = sessions or b.sessions
    with unit_of_work(b.sessions) as s:
        start = store.tree_size(s)
    publisher = CheckpointPublisher(lambda: _publish(b, signer), interval=1.0).start()
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(k: int) -> None:
        i = k * 10**7
        while time.perf_counter() < stop:
            with unit_of_work(sessions) as s:
                if per_txn == 1:
                    audit.append(s, sample_entry(i))
                else:
                    audit.append_many(s, [sample_entry(i + j) for j in range(per_txn)])
                i += per_txn
            counts[k] += per_txn

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - t0
    publisher.stop()
    _publish(b, signer)
    with unit_of_work(b.sessions) as s:
        end = store.tree_size(s)
        cps = len(store.checkpoints(s))
    assert end - start == sum(counts), (end, start, sum(counts))
    return sum(counts) / elapsed, cps


def _publish(b: Backend, signer: NoteSigner):
    with unit_of_work(b.sessions) as s:
        return audit.publish_checkpoint(s, signer, NOW)


def node_rows(n: int, out: dict):
    """Every stored row for a log of n synthetic entries, streamed (10^6 entries make 2×10^6
    rows); the root, computed independently with a compact range, lands in out["root"]."""
    nodes: dict[tuple[int, int], bytes] = {}
    cr = tlog.CompactRange()
    for i in range(n):
        h = tlog.leaf_hash(b'{"bench":%d}' % i)
        cr.append(h)
        new = merkle.new_nodes(i, h, {k: nodes.pop(k) for k in merkle.completed_parents(i)})
        for level, idx, nh in new:
            nodes[(level, idx)] = nh
        yield from new
    out["root"] = cr.root()


def bulk_load(b: Backend, rows, n: int) -> None:
    b.reset()
    if b.name == "postgresql":
        raw = b.engine.raw_connection()
        try:
            with raw.cursor() as cur:
                with cur.copy("COPY audit_nodes (level, idx, hash) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
                cur.execute("INSERT INTO audit_log_state (id, size) VALUES (1, %s)", (n,))
                cur.execute("ANALYZE audit_nodes")
            raw.commit()
        finally:
            raw.close()
    else:
        raw = b.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.executemany("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)", rows)
            cur.execute("INSERT INTO audit_log_state (id, size) VALUES (1, ?)", (n,))
            raw.commit()
        finally:
            raw.close()


def proof_times(b: Backend, n: int, root: bytes, samples: int) -> tuple[float, float, float]:
    """(median, p95 ms of inclusion_proof, median ms of a single-row PK SELECT)"""
    rnd = random.Random(n)
    times, ref = [], []
    with unit_of_work(b.sessions) as s:
        for k in range(samples):
            m = rnd.randrange(n)
            t0 = time.perf_counter()
            proof = audit.inclusion_proof(s, m, n)
            times.append(time.perf_counter() - t0)
            if k % 20 == 0:
                leaf = tlog.leaf_hash(b'{"bench":%d}' % m)
                assert tlog.verify_inclusion(leaf, m, n, proof, root), (n, m)
            t0 = time.perf_counter()
            s.execute(text("SELECT hash FROM audit_nodes WHERE level = 0 AND idx = :i"), {"i": m}).scalar()
            ref.append(time.perf_counter() - t0)
    times.sort()
    return (statistics.median(times) * 1e3, times[int(len(times) * 0.95)] * 1e3,
            statistics.median(ref) * 1e3)


def pg_reachable(url: str) -> str | None:
    try:
        base = make_url(url)
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS license_svc_bench_audit"))
            conn.execute(text("CREATE DATABASE license_svc_bench_audit"))
        admin.dispose()
        return base.set(database="license_svc_bench_audit").render_as_string(hide_password=False)
    except Exception as exc:
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}); skipping it")
        return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg", default=os.environ.get("LICENSE_SVC_TEST_DATABASE_URL") or PG_DEFAULT)
    ap.add_argument("--seconds", type=float, default=5.0, help="per append measurement")
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--samples", type=int, default=200, help="proofs timed per size")
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    signer = NoteSigner("licence-audit/sh", alg.generate_private_key("sm2"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-audit-"))

    backends = []
    for name in args.backends.split(","):
        if name == "sqlite":
            backends.append(Backend("sqlite", f"sqlite:///{tmp / 'audit.db'}"))
        elif name == "postgresql":
            url = pg_reachable(args.pg)
            if url:
                backends.append(Backend("postgresql", url))

    print(f"Audit-log benchmark  {time.strftime('%Y-%m-%d %H:%M')}  {platform.machine()} "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"reference: raw SM3 of a {len(sample_entry(0).leaf()) + 1}-byte leaf: "
          f"{sm3_rate(1.0):,.0f} hashes/s\n")
    print(f"{'backend':<11}{'appends':<34}{'audited/s':>10}{'raw INSERT+COMMIT/s':>21}{'ratio':>7}{'checkpoints':>13}")
    for b in backends:
        b.reset()
        raw = raw_insert_rate(b, min(args.seconds, 3.0))
        configs = [(1, 1), (1, 10)] + ([(8, 1)] if b.name == "postgresql" else [(4, 1)])
        for threads, per_txn in configs:
            rate, cps = append_rate(b, signer, args.seconds, threads, per_txn)
            label = f"{threads} thread(s), {per_txn} per transaction"
            print(f"{b.name:<11}{label:<34}{rate:>10,.0f}{raw:>21,.0f}{rate / raw:>6.2f}x{cps:>13}")
        if b.name == "postgresql":
            # What-if, NOT a production setting: commits that do not wait for the WAL flush show
            # what the code costs once the disk's flush latency is taken out.
            nosync = make_engine(b.url, connect_args={"options": "-c synchronous_commit=off"})
            for threads in (1, 8):
                rate, cps = append_rate(b, signer, args.seconds, threads, 1, make_session_factory(nosync))
                label = f"{threads} thread(s), 1/txn, no WAL-flush wait*"
                print(f"{b.name:<11}{label:<34}{rate:>10,.0f}{raw:>21,.0f}{rate / raw:>6.2f}x{cps:>13}")
            nosync.dispose()
    print("* synchronous_commit=off: a what-if for a disk with fast flushes, never for production\n")

    print(f"{'backend':<11}{'entries':>10}{'hash+load s':>13}{'proof median ms':>17}"
          f"{'p95 ms':>8}{'1-row SELECT ms':>17}")
    for n in sizes:
        for b in backends:
            out: dict = {}
            t0 = time.perf_counter()
            bulk_load(b, node_rows(n, out), n)
            loaded = time.perf_counter() - t0
            med, p95, ref = proof_times(b, n, out["root"], args.samples)
            print(f"{b.name:<11}{n:>10,}{loaded:>13.1f}{med:>17.2f}{p95:>8.2f}{ref:>17.2f}")
    for b in backends:
        b.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
