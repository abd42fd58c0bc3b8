"""Sequencer cost per entry: queue N audit entries in one transaction on a fresh SQLite file,
then time `sequencer.drain` (the background task's call), 5 runs.

    python bench/audit_sequencer.py [N]          # default 4000

Used for issue 14 item 4 (the sequencer now recomputes each entry's lookup columns and leaf
hash from its leaf): docs/performance.md "Audit sequencer: columns from the leaf".
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from formats import libraries


def run(n: int) -> float:
    from license_svc import audit
    from license_svc.audit import sequencer
    from license_svc.db.base import Base

    engine = create_engine(f"sqlite:///{tempfile.mkdtemp()}/audit.db")
    Base.metadata.create_all(engine)
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    with Session(engine) as s, s.begin():
        audit.append_many(s, [audit.AuditEntry(
            time=now, actor=audit.Actor("91310000TEST00000X", "bench", "张三"), action="licence.retrieve",
            licence_id=f"1.2.156.3005.2.X.{i}", holder_ref="ab" * 32, purpose="310100-000-001",
            grant_id=f"g-{i}", source_region="js", request_id=f"r-{i}") for i in range(n)])
    started = time.perf_counter()
    assert sequencer.drain(engine) == n
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed / n * 1000


def main() -> None:
    libraries.install()
    import license_svc.audit.models  # noqa: F401  (the tables)

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    runs = [run(n) for _ in range(5)]
    print(f"drain {n} queued entries: ms per entry min {min(runs):.4f}, median "
          f"{statistics.median(runs):.4f} ({', '.join(f'{r:.4f}' for r in runs)})")


if __name__ == "__main__":
    main()
