"""The application context: what every domain function needs, built once and passed explicitly.

Domain functions are plain functions `f(ctx, session, ...)`.  The CLI, the tests and the HTTP
routes all call them the same way; routes only translate HTTP to arguments and back.

    ctx = AppContext.create(settings)
    with ctx.unit_of_work() as session:
        do_something(ctx, session, ...)
"""

from __future__ import annotations

import threading
from pathlib import Path
from collections.abc import Hashable
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from license_svc import templates
from license_svc.config import Settings
from license_svc.db.engine import make_engine, make_session_factory, unit_of_work

if TYPE_CHECKING:
    import httpx

    from license_svc.federation.peer_client import PeerClient


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def load_keystore(settings: Settings):
    """The region's keys and certificates (PKI engineer's `signing.keystore`)."""
    from signing.keystore import KeyStore, KeyStoreError

    from license_svc.config import DEV_KEYS_DIR

    if Path(settings.keys_dir) == DEV_KEYS_DIR and not DEV_KEYS_DIR.is_dir():
        # An installed package has no keys_dev/ beside it: say what to do, not which file is missing.
        raise KeyStoreError(
            "no key store: set LICENSE_SVC_KEYS_DIR (production keys: docs/operations.md; "
            "development: `license-svc dev-pki generate --out DIR`)",
            "没有密钥目录：请设置 LICENSE_SVC_KEYS_DIR（生产密钥见 docs/operations.md；"
            "开发测试可用 `license-svc dev-pki generate --out 目录` 生成）")
    return KeyStore.load(settings.keys_dir, passphrase=settings.key_passphrase,
                         production=settings.production, sm2_backend=settings.sm2_backend)


T = TypeVar("T")


class Caches:
    """What one running service builds once and reuses: verifier trust, signing resources, the
    remote status cache, the status-list part it issues into.

    Why on the context and not in module globals keyed by it: each value is only right for one
    database, key store and clock, and the context is what ties those together; a global keyed
    by the context (or by an `id()`) outlives it, and a test's second context must not see the
    first one's values.  Keys are chosen by the module that owns the value."""

    def __init__(self):
        self._values: dict[Hashable, Any] = {}
        self._lock = threading.RLock()  # builders nest (org signing builds the TSA)

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value under `key`, built by `build()` the first time (once, even under races)."""
        value = self._values.get(key)
        if value is None:
            with self._lock:
                value = self._values.get(key)
                if value is None:
                    value = self._values[key] = build()
        return value


class AppContext:
    """Settings, database, key store, clock, metrics registry, caches and peer HTTP client of one
    running service."""

    def __init__(self, settings: Settings, engine: Engine, *, clock: Callable[[], datetime] = _utc_now,
                 keystore: Any = None, keystore_loader: Callable[[Settings], Any] = load_keystore,
                 peer_transport: "httpx.BaseTransport | None" = None):
        self.settings = settings
        templates.use_template_dirs(settings.templates_dirs)
        self.engine = engine
        self.sessions: sessionmaker[Session] = make_session_factory(engine)
        self.clock = clock
        self.metrics = CollectorRegistry(auto_describe=True)
        self.caches = Caches()
        self._keystore = keystore
        self._keystore_loader = keystore_loader
        self._peer_transport = peer_transport
        self._peer_client: "PeerClient | None" = None
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

    @property
    def peer_client(self) -> "PeerClient":
        """The one pooled HTTP client for other nodes (status answers, trust lists), opened on
        first use; tests inject `peer_transport`."""
        client = self._peer_client
        if client is None:
            from license_svc.federation.peer_client import PeerClient

            with self._lock:
                if self._peer_client is None:
                    self._peer_client = PeerClient(transport=self._peer_transport)
                client = self._peer_client
        return client

    def unit_of_work(self) -> AbstractContextManager[Session]:
        return unit_of_work(self.sessions)

    def close(self) -> None:
        """Release connections (database pool, peer client).  Like a disposed engine, the
        context stays usable and reconnects on next use: tests share one across apps."""
        self.engine.dispose()
        with self._lock:
            client, self._peer_client = self._peer_client, None
        if client is not None:
            client.close()
