"""Engines and transactions.

`unit_of_work` is the one way domain code gets a transaction: it commits when the block ends
normally and rolls back on any exception, so an action and its audit entry land together or not at all.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker


def make_engine(database_url: str, **kwargs) -> Engine:
    """An engine for `database_url`; SQLite files get their directory created and sane pragmas."""
    url = make_url(database_url)
    # Statement parameters stay out of exception messages: they can hold holder ID numbers.
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", _refused_connection_is_disconnect)
        return engine
    # No pre-ping: it is a round trip and ~0.2 ms of CPU on every checkout, a third of an
    # audited append's cost (docs/performance.md "Audit log").  After a server restart the
    # first statement on a stale connection fails instead; SQLAlchemy then sees a disconnect
    # and invalidates every pooled connection, that one request gets a 503 (web.problems) and
    # the next reconnects.  Connections are recycled before idle timeouts of proxies/firewalls.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", 1800)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "handle_error", _refused_connection_is_disconnect)
    return engine


def _refused_connection_is_disconnect(context) -> None:
    """A new connection the server refuses (stopped, shutting down, starting up, in recovery)
    counts as a disconnect, like a pooled connection found dead: the statement never ran, so
    the caller answers 503 and retries (`web.problems`), instead of a 500.  SQLAlchemy's own
    test (`dialect.is_disconnect`) knows only the messages of connections lost mid-use.
    `connection is None` only while connecting."""
    if context.connection is None and not context.is_pre_ping and \
            isinstance(context.sqlalchemy_exception, OperationalError):
        context.is_disconnect = True


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the web threads read while one writes.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: objects returned from a unit of work stay readable after commit.
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """`with unit_of_work(sessions) as s:` — commit on success, roll back on error."""
    session = sessions()
    try:
        with session.begin():
            yield session
    finally:
        session.close()
