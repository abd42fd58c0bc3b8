"""A throwaway PostgreSQL cluster for tests that must stop and start the database server itself
(tests/crash/): `initdb` into a fresh directory, `postgres` on a free port of 127.0.0.1, stopped
and started again by the PID this module holds — never the shared server on :5432, which other
tests and people use.

    with private_cluster() as pg:          # pytest.skip()s when the binaries are absent
        url = pg.create_database("crash")  # postgresql+psycopg://postgres@127.0.0.1:<port>/crash
        pg.stop()                          # fast shutdown: open sessions are cut
        pg.start()                         # same directory, same port

The server runs as a non-root user (PostgreSQL refuses root): when the tests run as root, as
the `postgres` system user (Popen's `user=`, so the PID held is the postmaster's own).  Its
directory is a `mkdtemp` under the system temporary directory (pytest's own is private to
root), removed at the end.  Only TCP on 127.0.0.1, `trust` authentication, no Unix socket.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.nodes import free_ports

BIN_DIRS = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin",
            "/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
RUN_AS = "postgres"


def binaries() -> dict[str, str] | None:
    """Paths of initdb, postgres and pg_isready from one directory, or None."""
    for d in BIN_DIRS:
        paths = {name: os.path.join(d, name) for name in ("initdb", "postgres", "pg_isready")}
        if all(os.access(p, os.X_OK) for p in paths.values()):
            return paths
    return None


def _run_as() -> tuple[int, int] | None:
    """(uid, gid) to run the server as, or None to run as ourselves (we are not root)."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam(RUN_AS)
    except KeyError:
        return None
    return user.pw_uid, user.pw_gid


class Cluster:
    def __init__(self, bins: dict[str, str], root: Path, port: int, owner: tuple[int, int] | None):
        self.bins, self.root, self.port, self.owner = bins, root, port, owner
        self.data = root / "data"
        self.log = root / "server.log"
        self.process: subprocess.Popen | None = None

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _popen(self, args: list[str], **kwargs) -> subprocess.Popen:
        if self.owner is not None:
            kwargs.update(user=self.owner[0], group=self.owner[1], extra_groups=[])
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
        return subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, **kwargs)

    def initdb(self) -> None:
        if self.owner is not None:
            os.chown(self.root, *self.owner)
        with open(self.log, "ab") as fh:
            if self.owner is not None:
                os.chown(self.log, *self.owner)
            p = self._popen([self.bins["initdb"], "-D", str(self.data), "-U", "postgres",
                             "--auth=trust", "--encoding=UTF8", "--no-instructions"],
                            stdout=fh, stderr=subprocess.STDOUT)
            if p.wait(timeout=120) != 0:
                raise RuntimeError(f"initdb failed:\n{self.log_tail()}")

    def start(self) -> None:
        """Start the server (same directory and port as before) and wait until it accepts."""
        assert self.process is None or self.process.poll() is not None, "already running"
        with open(self.log, "ab") as fh:
            self.process = self._popen(
                [self.bins["postgres"], "-D", str(self.data), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                 "-c", "max_connections=60", "-c", "fsync=off"],
                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}:\n{self.log_tail()}")
            ready = subprocess.run([self.bins["pg_isready"], "-q", "-h", "127.0.0.1", "-p",
                                    str(self.port), "-t", "1"], check=False).returncode == 0
            if ready:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres not ready after {START_TIMEOUT:.0f}s:\n{self.log_tail()}")
            time.sleep(0.1)

    def stop(self, mode: int = signal.SIGINT) -> None:
        """Stop the postmaster by its PID: SIGINT = "fast" (cut sessions, roll back, clean
        shutdown), SIGQUIT = "immediate" (crash-recovery at the next start); SIGKILL after
        STOP_TIMEOUT."""
        p = self.process
        if p is None or p.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(p.pid, mode)
        try:
            p.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # The postmaster's session holds its children; kill the whole group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)

    def create_database(self, name: str) -> str:
        """CREATE DATABASE `name`; returns its SQLAlchemy URL."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A fresh, running cluster; stopped by PID and its directory removed at the end, however
    the block ends.  Skips the test when the PostgreSQL server binaries are not installed, or
    when running as root with no `postgres` user to run the server as."""
    bins = binaries()
    if bins is None:
        pytest.skip(f"PostgreSQL server binaries (initdb, postgres, pg_isready) not found in {BIN_DIRS}")
    owner = _run_as()
    if os.geteuid() == 0 and owner is None:
        pytest.skip(f"running as root and there is no '{RUN_AS}' user to run a private PostgreSQL as")
    root = Path(tempfile.mkdtemp(prefix="license-svc-pg-"))
    cluster = Cluster(bins, root, free_ports(1)[0], owner)
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
