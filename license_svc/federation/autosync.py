"""Sync by itself: the background task a running node uses to keep its trust lists fresh.

Why: lists are valid 24 h and a region whose list is past its grace is TRY_LATER; a node that
syncs only when an operator remembers to would drift into refusing other regions' licences.
The task runs `license_svc.federation.sync.sync` once at start (a node that was down catches up
at once) and then every `sync_interval_minutes`, each wait stretched or shrunk by up to 10 % so
that nodes started together do not all call each other in the same second.

It is a daemon thread, not an asyncio task: `sync()` is synchronous network and database work
and must stay off the event loop.  `stop()` wakes the thread and joins it for a bounded time (a
round in flight finishes its current request, at most the peer client's timeout); the thread is
a daemon, so a round stuck beyond that cannot keep the process alive.  A round's failure is
logged and the next round runs as usual: each outcome is also on its list's row (`last_error`).
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from typing import Callable

log = logging.getLogger(__name__)

JITTER = 0.10
JOIN_TIMEOUT = 10.0


def jittered(interval: float, rng: random.Random | None = None) -> float:
    """`interval` seconds ± 10 %."""
    return interval * (1 + (rng or random).uniform(-JITTER, JITTER))


class SyncTask:
    """Run `round_once()` now and then every `interval_seconds` (± 10 %) until `stop()`."""

    def __init__(self, round_once: Callable[[], object], interval_seconds: float, *,
                 name: str = "federation-sync"):
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive (0 means: do not start the task)")
        self._round_once = round_once
        self.interval = interval_seconds
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "SyncTask":
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._round_once()
            except Exception:  # keep syncing; the next round may work (peer back, database back)
                log.exception("federation sync round failed")
            self.rounds += 1
            if self._stop.wait(jittered(self.interval)):
                return

    def stop(self, timeout: float = JOIN_TIMEOUT) -> bool:
        """Ask the thread to end and wait at most `timeout` seconds; True when it ended."""
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("federation sync still running after %.0f s at shutdown; left to exit "
                        "with the process", timeout)
            return False
        return True


def sync_round(ctx) -> list:
    """One logged round for the background task."""
    from license_svc.federation.sync import sync

    outcomes = sync(ctx)
    counts = Counter(o.outcome for o in outcomes)
    log.info("federation sync round", extra={"outcomes": dict(sorted(counts.items()))})
    _retry_disputes(ctx)
    return outcomes


def _retry_disputes(ctx) -> None:
    """Disputes and outcomes a peer could not take earlier (license_svc.disputes): after the
    sync, so a peer that came back is trusted again first.  Its failure never fails the round."""
    from license_svc.disputes.service import retry_deliveries

    try:
        retried = retry_deliveries(ctx)
    except Exception:
        log.exception("dispute delivery retry failed")
        return
    if retried["pending"] or retried["unsent"]:
        log.info("dispute deliveries retried", extra={"disputes": retried})


def start_sync_task(ctx) -> SyncTask | None:
    """The node's task per `settings.sync_interval_minutes` (0: none, sync only when asked)."""
    minutes = ctx.settings.sync_interval_minutes
    if not minutes or minutes <= 0:
        return None
    return SyncTask(lambda: sync_round(ctx), minutes * 60).start()


def witness_round(ctx) -> list:
    """One logged round of witnessing the other regions' audit logs (license_svc.audit.witness)."""
    from license_svc.audit.witness import witness_round as run

    outcomes = run(ctx)
    counts = Counter(o.outcome for o in outcomes)
    log.info("audit witness round", extra={"outcomes": dict(sorted(counts.items()))})
    return outcomes


def start_witness_task(ctx, interval_seconds: float) -> SyncTask:
    """Witness every `interval_seconds` (± 10 %): seconds, not the trust-list sync's minutes,
    because a log's new checkpoint should carry cosignatures within a minute."""
    return SyncTask(lambda: witness_round(ctx), interval_seconds, name="audit-witness").start()
