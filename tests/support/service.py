"""One service process that tests kill with SIGKILL and start again on the same database:
`python -m license_svc serve` on 127.0.0.1 (as tests/support/nodes.py starts nodes), on a
SQLite file in its data directory or on any SQLAlchemy URL (a PostgreSQL database).

    with killable_service(tmp_path, database_url) as svc:
        node = svc.start()          # waits for /readyz; `node` is a tests.support.nodes.Node
        svc.kill()                  # SIGKILL by PID, no shutdown handler runs
        node = svc.start()          # same port, keys, data directory and database
        svc.cli("audit", "export", "--out", str(out))   # the CLI on the same settings

Every process started here is stopped by its PID when the block ends, whatever happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from license_svc.federation.dev import export_node_store, node_environment, serve_command
from tests.support.nodes import Node, child_env, free_ports, node_urls, stop_nodes

REGION = "sh"


class KillableService:
    def __init__(self, workdir: Path, database_url: str | None):
        self.workdir = Path(workdir)
        self.data_dir = self.workdir / REGION
        self.keys_dir = self.data_dir / "keys"
        port = free_ports(1)[0]
        # The other regions point at closed ports; the background sync is off anyway.
        others = dict(zip(("js", "zj", "ah"), free_ports(3)))
        self.urls = node_urls({REGION: port, **others})
        self.database_url = database_url or f"sqlite:///{self.data_dir / 'license-svc-sh.db'}"
        self.nodes: list[Node] = []

    @property
    def env(self) -> dict[str, str]:
        """The environment of the service and of the CLI run against the same node."""
        return node_environment(REGION, self.keys_dir, self.data_dir, self.urls,
                                base=child_env(), database_url=self.database_url,
                                sync_interval_minutes="0")

    @property
    def node(self) -> Node:
        return self.nodes[-1]

    def launch(self) -> Node:
        """Start the process; does not wait for it (see `start`)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not (self.keys_dir / "manifest.json").exists():
            export_node_store(REGION, self.keys_dir, self.urls)
        port = int(self.urls[REGION].rsplit(":", 1)[1])
        log = self.data_dir / "serve.log"
        with open(log, "ab") as fh:
            process = subprocess.Popen(serve_command(REGION, port), env=self.env, stdout=fh,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       cwd=self.data_dir, start_new_session=True)
        clients = {c["client_id"]: c["api_key"]
                   for c in json.loads((self.keys_dir / "clients.json").read_text("utf-8"))}
        node = Node(REGION, port, self.urls[REGION], self.keys_dir, self.data_dir, log, process,
                    clients)
        self.nodes.append(node)
        return node

    def start(self, timeout: float = 60.0) -> Node:
        node = self.launch()
        node.wait_ready(timeout)
        return node

    def kill(self) -> None:
        """SIGKILL (kill -9) the running process and reap it."""
        node = self.node
        with contextlib.suppress(ProcessLookupError):
            os.kill(node.pid, signal.SIGKILL)
        node.process.wait(timeout=10)

    def cli(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
        """`license-svc ARGS` on this node's settings (database, keys, data directory)."""
        return subprocess.run([sys.executable, "-m", "license_svc", *args], env=self.env,
                              cwd=self.data_dir, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def cli_process(self, *args: str) -> subprocess.Popen:
        """`license-svc ARGS` started, not waited for (the caller stops it by its PID)."""
        return subprocess.Popen([sys.executable, "-m", "license_svc", *args], env=self.env,
                                cwd=self.data_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(self) -> None:
        stop_nodes([n for n in self.nodes if n.process.poll() is None])


@contextlib.contextmanager
def killable_service(workdir: Path, database_url: str | None = None) -> Iterator[KillableService]:
    svc = KillableService(workdir, database_url)
    try:
        yield svc
    finally:
        svc.stop()


@contextlib.contextmanager
def scratch_postgres_database(base_url: str, label: str) -> Iterator[str]:
    """A new, empty database next to `base_url`'s (same server and user), dropped at the end
    (WITH FORCE: a killed service's sessions may linger for a moment)."""
    base = make_url(base_url)
    name = f"{base.database}_{label}_{uuid.uuid4().hex[:8]}"[:63]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
