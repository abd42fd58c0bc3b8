"""kill -9 of the audit sequencer in the middle of its work.  Sequencing runs inside whichever
process reads or publishes the log (license_svc/audit/sequencer.py): the service's background
task, and the CLI (`license-svc audit checkpoint`, `audit export`).  With 40,000 committed
entries queued (eight batches of 5,000), the test kills first the CLI and then the service
while the sequencer holds its lock (PostgreSQL: after at least one batch committed, so between
batches of one drain), then starts the service again: every queued entry is sequenced exactly
once, indexes run 0..n-1 without a gap, and `license-svc audit verify` passes.

On SQLite here; on PostgreSQL in the CI's second run (tests/crash/conftest.py)."""

import contextlib
import os
import signal
import sqlite3
import time
from datetime import datetime, timezone

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from license_svc import audit
from license_svc.audit.entries import Actor, AuditEntry
from license_svc.audit.sequencer import BATCH
from license_svc.audit.store import SEQUENCER_LOCK_KEY
from tests.support.crash_load import check_audit_log

pytestmark = pytest.mark.slow
QUEUED = 8 * BATCH
PROBE = "crash.probe"


def _queue_entries(engine: Engine, count: int) -> None:
    """`count` entries appended through the audit log's own `append_many`, committed, not
    sequenced (no sequencer runs while the service is stopped)."""
    now = datetime.now(timezone.utc)
    actor = Actor("11310000MB00004000", "crash-test")
    for start in range(0, count, 10_000):
        with Session(engine) as session, session.begin():
            audit.append_many(session, [
                AuditEntry(time=now, actor=actor, action=PROBE, source_region="sh",
                           detail={"n": n}) for n in range(start, min(count, start + 10_000))])


def _queued(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM audit_queue"))


def _sequencer_locked(engine: Engine) -> bool:
    """Whether a sequencer holds its lock now: the advisory lock on PostgreSQL, the database
    write lock on SQLite (nothing else writes while these tests look)."""
    if engine.dialect.name == "postgresql":
        key = SEQUENCER_LOCK_KEY & 0xFFFFFFFFFFFFFFFF
        with engine.connect() as conn:
            return conn.scalar(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.granted "
                "AND l.classid = :hi AND l.objid = :lo"), {"hi": key >> 32, "lo": key & 0xFFFFFFFF}) > 0
    probe = sqlite3.connect(make_url(str(engine.url)).database, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
        return False
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return True
    finally:
        probe.close()


def _kill_mid_batch(engine: Engine, pid: int, process, *, ready=lambda: True,
                    timeout: float = 120.0) -> int:
    """SIGKILL `pid` as soon as its sequencer is at work (and, on PostgreSQL, has committed at
    least one batch of this drain); returns the queue length just before the kill."""
    before = _queued(engine)
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "the process ended before it was killed"
        if ready() and _sequencer_locked(engine):
            left = _queued(engine)
            if engine.dialect.name != "postgresql" or 0 < left < before:
                os.kill(pid, signal.SIGKILL)
                process.wait(timeout=10)
                return left
        assert time.monotonic() < deadline, "never saw the sequencer at work"
        time.sleep(0.005)


def _healthy(node) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{node.url}/healthz", timeout=1).status_code == 200
    return False


def test_kill_sequencer_mid_batch(service, engine, tmp_path):
    t0 = time.monotonic()
    lap = lambda what: print(f"{time.monotonic() - t0:6.1f} s  {what}")  # noqa: E731
    service.start()  # migrate, seed, first checkpoint
    service.stop()
    base = _queued(engine)
    with engine.connect() as conn:
        sequenced = conn.scalar(text("SELECT count(*) FROM audit_entries"))
    lap("service started and stopped")
    _queue_entries(engine, QUEUED)
    lap(f"{QUEUED} entries queued")
    total = sequenced + base + QUEUED

    def consistent_after_kill(left_before_kill: int) -> None:
        with engine.connect() as conn:
            n, high = conn.execute(text("SELECT count(*), max(idx) FROM audit_entries")).one()
        left = _queued(engine)
        assert n + left == total, f"{n} sequenced + {left} queued != {total}"
        assert high == n - 1, f"indexes up to {high} for {n} entries"
        assert 0 < left <= left_before_kill, "the kill came after the sequencer finished"
        if engine.dialect.name == "postgresql":  # batches commit one by one, all or nothing
            assert (total - sequenced - left) % BATCH == 0

    # 1. The CLI sequences in its own process before it signs a checkpoint.
    cli = service.cli_process("audit", "checkpoint")
    try:
        consistent_after_kill(_kill_mid_batch(engine, cli.pid, cli))
    finally:
        if cli.poll() is None:
            cli.kill()
        cli.wait(timeout=10)
        cli.stdout.close()
    lap(f"CLI killed mid-batch, {_queued(engine)} left")
    # 2. The service's background sequencer, at start-up (it publishes a checkpoint first).
    node = service.launch()
    consistent_after_kill(_kill_mid_batch(engine, node.pid, node.process,
                                          ready=lambda: _healthy(node)))
    lap(f"service killed mid-batch, {_queued(engine)} left")
    # 3. Recovery: the next start sequences what is left, once.
    service.start()
    deadline = time.monotonic() + 120
    while _queued(engine):
        assert time.monotonic() < deadline, "the queue was not drained after the restart"
        time.sleep(0.2)
    lap("restarted and drained")
    with engine.connect() as conn:
        probes, distinct = conn.execute(text(
            "SELECT count(*), count(DISTINCT leaf) FROM audit_entries WHERE action = :a"),
            {"a": PROBE}).one()
    # No entry twice: the probes' leaves differ (detail.n), so a repeated one would show here.
    assert probes == distinct == QUEUED
    manifest = check_audit_log(engine, service, tmp_path / "audit")
    assert manifest["size"] >= total
    lap("exported and verified")
