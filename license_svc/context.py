"""The application context: what every domain function needs, built once and passed explicitly.

Domain functions are plain functions `f(ctx, session, ...)`.  The CLI, the tests and the HTTP
routes all call them the same way; routes only translate HTTP to arguments and back.

    ctx = AppContext.create(settings)
    with ctx.unit_of_work() as session:
        do_something(ctx, session, ...)
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Any, Callable

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from license_svc.config import Settings
from license_svc.db.engine import make_engine, make_session_factory, unit_of_work


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def load_keystore(settings: Settings):
    """The region's keys and certificates (PKI engineer's `signing.keystore`)."""
    from signing.keystore import KeyStore

    return KeyStore.load(settings.keys_dir, passphrase=settings.key_passphrase,
                         production=settings.production)


class AppContext:
    """Settings, database, key store, clock and metrics registry of one running service."""

    def __init__(self, settings: Settings, engine: Engine, *, clock: Callable[[], datetime] = _utc_now,
                 keystore: Any = None, keystore_loader: Callable[[Settings], Any] = load_keystore):
        self.settings = settings
        self.engine = engine
        self.sessions: sessionmaker[Session] = make_session_factory(engine)
        self.clock = clock
        self.metrics = CollectorRegistry(auto_describe=True)
        self._keystore = keystore
        self._keystore_loader = keystore_loader
        self._lock = threading.Lock()

    @classmethod
    def create(cls, settings: Settings, **kwargs) -> "AppContext":
        return cls(settings, make_engine(settings.database_url), **kwargs)

    @property
    def region(self) -> str:
        return self.settings.region

    def now(self) -> datetime:
        """The service's notion of "now" (timezone-aware UTC); tests inject a fixed clock."""
        return self.clock()

    @property
    def keystore(self):
        """Loaded on first use and kept: decrypting keys once, not per request."""
        if self._keystore is None:
            with self._lock:
                if self._keystore is None:
                    self._keystore = self._keystore_loader(self.settings)
        return self._keystore

    def unit_of_work(self) -> AbstractContextManager[Session]:
        return unit_of_work(self.sessions)

    def close(self) -> None:
        self.engine.dispose()
