"""Audit-log benchmark: audited appends/s with the sequencer and checkpointing, and
inclusion-proof time as the log grows.

    python bench/audit.py                        # SQLite, and PostgreSQL if reachable (~3 min)
    python bench/audit.py --backends sqlite      # one backend
    python bench/audit.py --sizes 1000,100000    # skip the 10^6 build
    python bench/audit.py --no-appends           # proof times only
    python bench/audit.py --backends postgresql --sizes '' --rounds 3 --seconds 4   # the goal's figure
    python bench/audit.py --backends postgresql --sizes '' --rounds 3 --seconds 4 --processes 2   # as `serve --workers 2`
    python bench/audit.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

References measured in the same run, next to each figure:
- appends: raw single-row INSERTs, each committed on its own, into a scratch table of the same
  database with the same number of threads (what any durable write costs there: the commit's
  WAL flush dominates, and concurrent commits share flushes), and raw SM3 hashes/s of an
  entry-sized input;
- proofs: one indexed primary-key SELECT of a single row on the same node table.

Appends: every transaction holds one audited action — either the entry alone (`audit.append`)
or, the honest shape, a small action row (INSERT into a scratch `bench_action` table) plus its
entry — committed with `synchronous_commit=on`, while the service's background task runs
(sequencer + a checkpoint signed every second).  1 thread, then 8 threads (PostgreSQL; 4 on
SQLite), then 10 entries per transaction (a retrieval of several licences).  `--processes P`
spreads the many-thread runs, references included, over P processes, each with its own pool
and background task, as `license-svc serve --workers P` runs the service (one Python process
is held to one core by the GIL).  After each run
the queue is drained and the tree size checked against the count of committed appends; the
time the background sequencer spent and the queue left at the end are reported.
Sizes: building 10^6 entries through `append` would take minutes, and proofs read only the
stored subtree hashes, so the size test computes leaf hashes of synthetic entries and every
perfect-subtree hash in memory (merkle.new_nodes, the same code the sequencer uses),
bulk-inserts them (COPY on PostgreSQL, executemany on SQLite) — the tree size is the highest
leaf-hash index + 1.  It then times `inclusion_proof` (one batched SELECT of O(log n) nodes
plus hashing) at random indexes, and checks a sample of the proofs against the root.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
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
from formats import merkle
from license_svc.audit import sequencer, store
from license_svc.audit.checkpoint import NoteSigner
from license_svc.audit.log import CheckpointPublisher
from license_svc.db import Base, make_engine, make_session_factory, unit_of_work
from formats import algorithms as alg

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
AUDIT_TABLES = ("audit_entries", "audit_nodes", "audit_checkpoints", "audit_queue")
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
        # A pool that holds every thread's connection: overflow connections are closed on return,
        # and reconnecting per transaction would be measured instead of the log.
        self.engine = make_engine(url, pool_size=16) if name == "postgresql" else make_engine(url)
        self.sessions = make_session_factory(self.engine)

    def reset(self) -> None:
        tables = [Base.metadata.tables[t] for t in AUDIT_TABLES]
        with self.engine.begin() as conn:
            if self.name == "postgresql":
                conn.execute(text("DROP FUNCTION IF EXISTS audit_append_only() CASCADE"))
            for t in AUDIT_TABLES + ("audit_log_state", "bench_raw", "bench_action"):
                conn.execute(text(f"DROP TABLE IF EXISTS {t}"))
        Base.metadata.create_all(self.engine, tables=tables)
        with self.engine.begin() as conn:
            if self.name == "postgresql":
                conn.execute(text("CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, data BYTEA)"))
                conn.execute(text("CREATE TABLE bench_action (id BIGSERIAL PRIMARY KEY, "
                                  "licence_id TEXT, holder_ref TEXT, at TIMESTAMPTZ)"))
            else:
                conn.execute(text("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, data BLOB)"))
                conn.execute(text("CREATE TABLE bench_action (id INTEGER PRIMARY KEY, "
                                  "licence_id TEXT, holder_ref TEXT, at TEXT)"))

    def close(self) -> None:
        self.engine.dispose()


def run_threads(threads: int, seconds: float, transaction) -> int:
    """How many `transaction(k, i)` calls (thread k, its i-th call) `threads` threads complete
    in `seconds`."""
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(k: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            transaction(k, i)
            i += 1
            counts[k] += 1

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts)


_run_ids = itertools.count(1)
ACTION_SQL = text("INSERT INTO bench_action (licence_id, holder_ref, at) VALUES (:l, :h, :t)")


def _action(s, i: int) -> None:
    s.execute(ACTION_SQL, {"l": f"L{i}", "h": "%064x" % i, "t": NOW})


def transaction_for(b: Backend, shape: str, salt: int = 0, run: int = 0):
    """`transaction(k, i)` of one shape: thread k's i-th transaction.  `salt` (the process) and
    `run` (the measurement, counted by the parent) keep the keys of raw rows apart."""
    if shape == "raw":  # reference: single-row INSERT + COMMIT on a bare engine connection
        payload = sample_entry(0).leaf()
        run = (run * 16 + salt) * 10**12
        stmt = text("INSERT INTO bench_raw (id, data) VALUES (:i, :d)")

        def raw(k: int, i: int) -> None:
            with b.engine.begin() as conn:
                conn.execute(stmt, {"i": run + k * 10**9 + i, "d": payload})
        return raw
    if shape == "action":  # reference: the action row alone, in the unit of work, not audited
        def action(k: int, i: int) -> None:
            with unit_of_work(b.sessions) as s:
                _action(s, i)
        return action
    per_txn, with_action = (10, False) if shape == "10 entries" else (1, shape == "action+entry")

    def audited(k: int, i: int) -> None:
        i = salt * 10**9 + k * 10**7 + i * per_txn
        with unit_of_work(b.sessions) as s:
            if with_action:
                _action(s, i)
            if per_txn == 1:
                audit.append(s, sample_entry(i))
            else:
                audit.append_many(s, [sample_entry(i + j) for j in range(per_txn)])
    return audited


def per_txn_of(shape: str) -> int:
    return 10 if shape == "10 entries" else 1


def sm3_rate(seconds: float) -> float:
    data = b"\x00" + sample_entry(0).leaf()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(1000):
            alg.sm3(data)
        n += 1000
    return n / (time.perf_counter() - t0)


SHAPES = {"raw": "raw INSERT+COMMIT (reference)", "action": "action row alone (reference)",
          "entry": "audited: entry alone", "action+entry": "audited: action row + entry",
          "10 entries": "audited: append_many(10)"}


def writers(b: Backend, signer: NoteSigner | None, shape: str, seconds: float, threads: int,
            salt: int = 0, run: int = 0, go=None) -> dict:
    """One process's writers: `threads` threads of `shape` for `seconds`, with the service's
    background task (sequencer every second, a checkpoint signed every second) when `signer`
    is given, as every `serve` worker runs it.  `go` (an Event) holds the start."""
    seq = {"seconds": 0.0}

    def timed(fn):
        def run():
            t0 = time.perf_counter()
            try:
                return fn()
            finally:
                seq["seconds"] += time.perf_counter() - t0
        return run

    publisher = None
    if signer is not None:
        publisher = CheckpointPublisher(timed(lambda: _publish(b, signer)), interval=1.0,
                                        sequence_once=timed(lambda: sequencer.drain(b.engine)),
                                        sequence_interval=1.0)
    transaction = transaction_for(b, shape, salt, run)
    transaction(threads, 0)  # warm: connection, compiled statements (thread id unused by runs)
    if go is not None:
        go.wait()
    if publisher is not None:
        publisher.start()
    t0, cpu0 = time.perf_counter(), time.process_time()
    count = run_threads(threads, seconds, transaction)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    if publisher is not None:
        publisher.stop()
    return {"transactions": count + 1, "elapsed": elapsed, "seq_seconds": seq["seconds"],
            "cpu": cpu}


def machine_busy() -> float:
    """CPU seconds the whole machine has spent not idle (all processes, kernel included)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _child(name: str, url: str, key_der: bytes | None, shape: str, seconds: float, threads: int,
           salt: int, run: int, ready, go, results) -> None:
    from formats import libraries

    libraries.install()  # a spawned process starts without the parent's patches
    b = Backend(name, url)
    signer = NoteSigner("licence-audit/sh", alg.load_private_key(key_der)) if key_der else None
    try:
        ready.put(salt)
        results.put(writers(b, signer, shape, seconds, threads, salt, run, go))
    except BaseException as exc:  # the parent reports it instead of waiting for a timeout
        results.put({"error": f"process {salt}: {exc.__class__.__name__}: {exc}"})
        raise
    finally:
        b.close()


def run_shape(b: Backend, signer: NoteSigner, shape: str, seconds: float, threads: int,
              processes: int = 1) -> dict:
    """Transactions/s (entries/s for audited shapes) of `shape` with `threads` writer threads
    in total, spread over `processes` processes (like `serve --workers`), each with its own
    pool and background task.  Audited runs are then drained and the tree checked to hold
    exactly one entry per committed append."""
    audited = shape not in ("raw", "action")
    with unit_of_work(b.sessions) as s:
        start = store.tree_size(s)
    run = next(_run_ids)
    if processes == 1:
        busy0 = machine_busy()
        outs = [writers(b, signer if audited else None, shape, seconds, threads, run=run)]
        busy = machine_busy() - busy0
    else:
        mp = multiprocessing.get_context("spawn")
        ready, go, results = mp.Queue(), mp.Event(), mp.Queue()
        key = alg.dump_private_key(signer.key) if audited else None
        procs = [mp.Process(target=_child, args=(b.name, b.url, key, shape, seconds,
                                                 threads // processes, p + 1, run, ready, go,
                                                 results))
                 for p in range(processes)]
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=120)
        busy0 = machine_busy()
        go.set()
        outs = [results.get(timeout=seconds + 120) for _ in procs]
        busy = machine_busy() - busy0
        for p in procs:
            p.join(timeout=60)
        failed = [o["error"] for o in outs if "error" in o]
        if failed:
            raise SystemExit("; ".join(failed))
    elapsed = max(o["elapsed"] for o in outs)
    # `writers` counted its warm-up transaction too (the +1), so the tree check is exact
    committed = sum(o["transactions"] for o in outs)
    done = committed - len(outs)
    out = {"rate": done * per_txn_of(shape) / elapsed,
           "py_ms": sum(o["cpu"] for o in outs) * 1000 / done, "all_ms": busy * 1000 / done}
    if not audited:
        return out
    with unit_of_work(b.sessions) as s:
        left = s.execute(text("SELECT count(*) FROM audit_queue")).scalar()
    drained = sequencer.drain(b.engine)
    _publish(b, signer)
    with unit_of_work(b.sessions) as s:
        end = store.tree_size(s)
        cps = len(store.checkpoints(s))
        queue = s.execute(text("SELECT count(*) FROM audit_queue")).scalar()
    assert drained == left and queue == 0, (drained, left, queue)
    assert end - start == committed * per_txn_of(shape), (end, start, committed)
    return {**out, "checkpoints": cps, "left": left,
            "seq_share": max(o["seq_seconds"] for o in outs) / elapsed}


def _publish(b: Backend, signer: NoteSigner):
    with unit_of_work(b.sessions) as s:
        return audit.publish_checkpoint(s, signer, NOW)


def node_rows(n: int, out: dict):
    """Every stored row for a log of n synthetic entries, streamed (10^6 entries make 2×10^6
    rows); the root, computed independently with a compact range, lands in out["root"]."""
    nodes: dict[tuple[int, int], bytes] = {}
    cr = merkle.CompactRange()
    for i in range(n):
        h = merkle.leaf_hash(b'{"bench":%d}' % i)
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
                cur.execute("ANALYZE audit_nodes")
            raw.commit()
        finally:
            raw.close()
    else:
        raw = b.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.executemany("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)", rows)
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
                leaf = merkle.leaf_hash(b'{"bench":%d}' % m)
                assert merkle.verify_inclusion(leaf, m, n, proof, root), (n, m)
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
    from formats import libraries

    libraries.install()  # the OIDs and library patches a program installs first (formats/libraries.py)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg", default=os.environ.get("LICENSE_SVC_TEST_DATABASE_URL") or PG_DEFAULT)
    ap.add_argument("--seconds", type=float, default=5.0, help="per append measurement")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the append measurements")
    ap.add_argument("--no-appends", action="store_true", help="proof times only")
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--samples", type=int, default=200, help="proofs timed per size")
    ap.add_argument("--processes", type=int, default=1,
                    help="spread the many-thread runs over this many processes, as `serve "
                         "--workers N` does (each with its own pool and background task)")
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
    print(f"{'backend':<11}{'threads':>8}  {'transaction':<32}{'per s':>22}{'/ raw':>7}"
          f"{'CPU ms: python / machine':>26}{'ckpts':>6}{'queue at end':>13}{'sequencer busy':>15}")
    for b in ([] if args.no_appends else backends):
        b.reset()
        many = 8 if b.name == "postgresql" else 4
        configs = [(t, shape) for t in (1, many) for shape in ("raw", "action", "entry", "action+entry")]
        configs.append((1, "10 entries"))
        results: dict = {c: [] for c in configs}
        for _ in range(args.rounds):  # interleaved, so a neighbour's burst hits every shape alike
            for threads, shape in configs:
                procs = args.processes if threads > 1 else 1
                seconds = min(args.seconds, 3.0) if shape in ("raw", "action") else args.seconds
                results[(threads, shape)].append(run_shape(b, signer, shape, seconds, threads, procs))
        for threads, shape in configs:
            rs = results[(threads, shape)]
            rates = sorted(r["rate"] for r in rs)
            raw = statistics.median(r["rate"] for r in results[(threads, "raw")])
            spread = f" ({rates[0]:,.0f}–{rates[-1]:,.0f})" if len(rates) > 1 else ""
            last = rs[-1]
            extra = (f"{last['checkpoints']:>6}{last['left']:>13,}{last['seq_share']:>14.0%}"
                     if "checkpoints" in last else "")
            label = f"{args.processes}x{threads // args.processes}" \
                if threads > 1 and args.processes > 1 else str(threads)
            cpu = (f"{statistics.median(r['py_ms'] for r in rs):>15.3f} / "
                   f"{statistics.median(r['all_ms'] for r in rs):.3f}")
            print(f"{b.name:<11}{label:>8}  {SHAPES[shape]:<32}"
                  f"{statistics.median(rates):>8,.0f}{spread:>14}{statistics.median(rates) / raw:>6.2f}x"
                  f"{cpu:>26}{extra}")
    print("per s: median of the rounds (min–max); audited rows count entries.  CPU ms per "
          "transaction (medians): the writer processes' own (threads and background task), and "
          "the whole machine's non-idle time (PostgreSQL, kernel and any neighbour included).  "
          "queue at end: entries "
          "committed but not yet sequenced when the writers stopped (the sequencer runs every "
          "second); sequencer busy: share of the run's wall time the background task spent "
          "sequencing and signing (last round)\n")

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
