"""Demo data for development start-up (`license-svc serve` outside production).

Domain modules add their own seeding step with `@demo_step`; `seed_demo(ctx)` runs them all in
registration order.  Each step must be idempotent (a restart runs it again) and is only ever
called when `ctx.settings.production` is false.

    # license_svc/issuance/demo.py
    from license_svc.demo_seed import demo_step

    @demo_step("issue sample licences")
    def seed_licences(ctx, session): ...

and add the module's name to `DEMO_MODULES` below.
"""

from __future__ import annotations

import importlib
import logging
from typing import Callable

log = logging.getLogger(__name__)

DEMO_MODULES: list[str] = ["license_svc.licences.demo", "license_svc.grants.demo"]  # modules that register demo steps on import
_STEPS: list[tuple[str, Callable]] = []


def demo_step(name: str):
    def register(fn: Callable) -> Callable:
        if all(existing is not fn for _, existing in _STEPS):
            _STEPS.append((name, fn))
        return fn
    return register


def seed_demo(ctx) -> list[str]:
    """Run every registered demo step, each in its own transaction; returns the names run."""
    if ctx.settings.production:
        raise RuntimeError("demo data is never seeded in production")
    for module in DEMO_MODULES:
        importlib.import_module(module)
    done = []
    for name, step in _STEPS:
        with ctx.unit_of_work() as session:
            step(ctx, session)
        log.info("demo data seeded", extra={"step": name})
        done.append(name)
    return done
