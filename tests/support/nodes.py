"""Real nodes for tests: `python -m license_svc serve` processes on 127.0.0.1, each on a key
store exported for its region (`license_svc.federation.dev.export_node_store`, what
`license-svc dev-pki export` runs) with its own SQLite database — the way a developer runs a
federation, so a test sees what they see (start-up, seeding, the background sync, HTTP).

    from tests.support.nodes import running_nodes

    def test_x(tmp_path):
        with running_nodes(["sh", "js"], tmp_path, sync_interval_minutes=0.05) as nodes:
            sh = nodes["sh"]
            sh.get("/api/v1/trust-list").json()
            sh.post("/api/v1/licences", json=..., headers=sh.auth("sh-issuer-amr"))
            wait_until(lambda: sh.usable("js"), timeout=30, what="sh holds js's list")

Every node gets an address for all four regions (a region not started points at a closed port,
so a sync reports it unreachable).  Every wait is bounded in time; every process started here
is stopped by its PID when the `with` block ends, whatever happened inside it.  The children get
PYTHONPATH = the repository the tests run from, so they import the code under test.

Start-up of one node takes about 2 s (imports, migration, demo seeding), two or four in
parallel about 3–7 s on two cores.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import httpx

from license_svc.federation.dev import (REGION_ORDER, export_node_store, node_environment,
                                        serve_command, stop_processes)

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0   # seconds for a node to answer /readyz (four on two cores: ~7 s)
STOP_TIMEOUT = 15.0    # seconds for a graceful stop before SIGKILL
T = TypeVar("T")


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on 127.0.0.1 now (held open together while choosing, so
    they differ; another process may still take one before the node binds it)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def consecutive_free_ports(count: int, attempts: int = 50) -> int:
    """A base port with base..base+count-1 all free (for `federation dev-up --base-port`)."""
    for _ in range(attempts):
        base = free_ports(1)[0]
        if base + count > 65535:
            continue
        try:
            with contextlib.ExitStack() as stack:
                for port in range(base, base + count):
                    s = stack.enter_context(socket.socket())
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError(f"no {count} consecutive free ports after {attempts} attempts")


def child_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process: PYTHONPATH starts with this repository."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def wait_until(predicate: Callable[[], T], *, timeout: float, what: str,
               interval: float = 0.2) -> T:
    """Call `predicate` until it returns something truthy (returned) or `timeout` seconds pass
    (AssertionError naming `what` and the last value or exception)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


@dataclass
class Node:
    """One running node: its address, files, API keys and process."""

    region: str
    port: int
    url: str
    keys_dir: Path
    data_dir: Path
    log: Path
    process: subprocess.Popen
    clients: dict[str, str] = field(default_factory=dict)  # client_id → API key (its region's)

    # -- HTTP --------------------------------------------------------------------------------
    def auth(self, client_id: str | None = None) -> dict[str, str]:
        """Bearer header for one of this node's dev clients (default: its admin)."""
        return {"Authorization": f"Bearer {self.clients[client_id or f'{self.region}-admin']}"}

    def get(self, path: str, **kwargs) -> httpx.Response:
        kwargs.setdefault("timeout", 10.0)
        return httpx.get(f"{self.url}{path}", **kwargs)

    def post(self, path: str, **kwargs) -> httpx.Response:
        kwargs.setdefault("timeout", 30.0)
        return httpx.post(f"{self.url}{path}", **kwargs)

    def readyz(self) -> dict:
        r = self.get("/readyz", timeout=3.0)
        r.raise_for_status()
        return r.json()

    def trust_lists(self) -> dict:
        """`sync_overview` as /readyz shows it: federation, regions{...}, unavailable."""
        return self.readyz()["trust_lists"]

    def usable(self, region: str) -> bool:
        return self.trust_lists()["regions"][region]["usable"]

    def sync(self) -> dict:
        """One sync round now (POST /api/v1/federation/sync with the admin key)."""
        r = self.post("/api/v1/federation/sync", headers=self.auth())
        r.raise_for_status()
        return r.json()

    # -- process -----------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_records(self) -> list[dict]:
        """The node's JSON log lines (anything else is skipped)."""
        out = []
        for line in self.log_text().splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def wait_ready(self, timeout: float = START_TIMEOUT) -> dict:
        """Until /readyz answers 200; fails at once (with the log's tail) if the process ends."""
        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"node {self.region} exited with {self.process.returncode}:\n"
                                     + "\n".join(self.log_text().splitlines()[-20:]))
            return self.readyz()
        return wait_until(ready, timeout=timeout, what=f"node {self.region} at {self.url} ready")

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM (graceful), SIGKILL after `timeout`; returns the exit code."""
        stop_processes([self.pid], timeout=timeout, poll=self.process.poll)
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=5)


def node_urls(ports: dict[str, int]) -> dict[str, str]:
    return {r: f"http://127.0.0.1:{p}" for r, p in ports.items()}


def start_node(region: str, workdir: Path, urls: dict[str, str], *,
               sync_interval_minutes: float | None = None, keys_dir: Path | None = None,
               env: dict[str, str] | None = None) -> Node:
    """Export `region`'s key store into `workdir/<region>/keys` (unless `keys_dir` is given)
    and start its node on the port of `urls[region]`; does not wait (see `Node.wait_ready`).
    `sync_interval_minutes` sets LICENSE_SVC_SYNC_INTERVAL_MINUTES (None: the default, 10)."""
    data_dir = Path(workdir) / region
    data_dir.mkdir(parents=True, exist_ok=True)
    if keys_dir is None:
        keys_dir = data_dir / "keys"
        export_node_store(region, keys_dir, urls)
    extra = {} if sync_interval_minutes is None else {"sync_interval_minutes": sync_interval_minutes}
    port = int(urls[region].rsplit(":", 1)[1])
    log = data_dir / "serve.log"
    with open(log, "ab") as fh:
        process = subprocess.Popen(
            serve_command(region, port),
            env=node_environment(region, keys_dir, data_dir, urls, base=child_env(env), **extra),
            stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=data_dir,
            start_new_session=True)
    clients = {c["client_id"]: c["api_key"]
               for c in json.loads((keys_dir / "clients.json").read_text(encoding="utf-8"))}
    return Node(region, port, urls[region], keys_dir, data_dir, log, process, clients)


@contextlib.contextmanager
def running_nodes(regions, workdir: Path, *, sync_interval_minutes: float | None = None,
                  timeout: float = START_TIMEOUT) -> Iterator[dict[str, Node]]:
    """Start a node for each of `regions` (every one of the four regions gets an address),
    wait until each answers /readyz, yield {region: Node}; stop them all by PID at the end."""
    ports = dict(zip(REGION_ORDER, free_ports(len(REGION_ORDER))))
    urls = node_urls(ports)
    nodes: dict[str, Node] = {}
    try:
        for region in regions:
            nodes[region] = start_node(region, workdir, urls,
                                       sync_interval_minutes=sync_interval_minutes)
        for node in nodes.values():
            node.wait_ready(timeout)
        yield nodes
    finally:
        stop_nodes(nodes.values())


def stop_nodes(nodes) -> dict[str, int | None]:
    """Stop several nodes at once (SIGTERM to all, then wait; SIGKILL after the timeout);
    returns region → exit code."""
    nodes = list(nodes)
    stop_processes([n.pid for n in nodes], timeout=STOP_TIMEOUT,
                   poll=lambda: [n.process.poll() for n in nodes])
    return {n.region: n.stop() for n in nodes}
