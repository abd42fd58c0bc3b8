"""What the PDF benchmarks share: operations per CPU second of a callable (CPU time, so a
neighbour on the shared machine does not change the ratio to the reference measured beside it)."""

from __future__ import annotations

import time


def rate(fn, seconds: float) -> float:
    fn()
    start_cpu, start = time.process_time(), time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        fn()
        n += 1
    return n / max(time.process_time() - start_cpu, 1e-9)
