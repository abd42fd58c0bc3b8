"""Development federations on one machine: one-region key stores exported from keys_dev/, each
with the federation list signed for it (`license-svc dev-pki export`), and the node addresses
of `license-svc federation dev-up`.

Why export: a node that holds every region's keys can sign for anyone, so the trust lists it
syncs decide nothing.  A node on an exported store holds its own region only and must learn
the others from signed lists, as a production node does.  The file format is the key store's
(`signing.keystore`), so nothing else changes: `LICENSE_SVC_KEYS_DIR=<dir>` runs a node on it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from license_svc.config import DEV_KEYS_DIR, parse_peers
from license_svc.federation.publish import (FEDERATION_FILE, FEDERATION_FILE_VALIDITY,
                                            SCENARIOS_FILE, federation_file_body,
                                            scenario_file_body)

REGION_ORDER = ("sh", "js", "zj", "ah")  # ports base, base+1, … in this order
DEFAULT_BASE_PORT = 8001
HOST = "127.0.0.1"


def node_urls(base_port: int = DEFAULT_BASE_PORT, host: str = HOST) -> dict[str, str]:
    """sh=http://127.0.0.1:8001, js=…:8002, zj=…:8003, ah=…:8004 for the default base port."""
    return {r: f"http://{host}:{base_port + i}" for i, r in enumerate(REGION_ORDER)}


def parse_node_urls(text: str | None, base_port: int = DEFAULT_BASE_PORT) -> dict[str, str]:
    """`sh=URL,js=URL,…` (the LICENSE_SVC_PEERS syntax); regions left out keep their default."""
    urls = node_urls(base_port)
    urls.update(parse_peers(text or ""))
    return urls


def peers_setting(urls: dict[str, str]) -> str:
    """The LICENSE_SVC_PEERS value naming `urls`."""
    return ",".join(f"{r}={u}" for r, u in urls.items())


def export_node_store(region: str, out: Path | str, urls: dict[str, str], *,
                      source: Path | str = DEV_KEYS_DIR, now: datetime | None = None) -> dict:
    """`out` becomes region `region`'s key store (signing.devpki.export_region) with
    `out/federation.json`: the federation list signed now by the dev federation root of
    `source`, naming every region of `source` with the node addresses `urls`, valid 30 days,
    and `out/scenarios.json`: the scenario list (yrd-scenarios/1) signed the same way.

    Returns {"manifest", "federation": {"sequence", "issued_at", "next_update", "path"},
    "scenarios": {"sequence", "next_update", "matters", "path"}}."""
    import json

    from formats import libraries
    from signing.devpki import export_region
    from signing.keystore import KeyStore

    libraries.install()  # SM2 keys load only with the library patches (formats/libraries.py)
    out = Path(out)
    manifest = export_region(source, region, out)
    body = federation_file_body(KeyStore.load(source), urls,
                                (now or datetime.now(timezone.utc)), FEDERATION_FILE_VALIDITY)
    (out / FEDERATION_FILE).write_bytes(body)
    payload = json.loads(body)["payload"]
    # The scenario list too: a node without the root key cannot sign it either.
    scenarios = scenario_file_body(KeyStore.load(source), (now or datetime.now(timezone.utc)),
                                   FEDERATION_FILE_VALIDITY)
    (out / SCENARIOS_FILE).write_bytes(scenarios)
    listed = json.loads(scenarios)["payload"]
    return {"manifest": manifest,
            "federation": {"sequence": payload["sequence"], "issued_at": payload["issued_at"],
                           "next_update": payload["next_update"], "path": str(out / FEDERATION_FILE)},
            "scenarios": {"sequence": listed["sequence"], "next_update": listed["next_update"],
                          "matters": len(listed["matters"]), "path": str(out / SCENARIOS_FILE)}}


# -- node processes ----------------------------------------------------------------------------
# Shared by `license-svc federation dev-up` and tests/support/nodes.py, so the tests start nodes
# exactly as a developer does: `python -m license_svc serve` with the settings in the environment.

# Settings a node gets from its caller: anything inherited under these names would point two
# nodes at one database or key store.
NODE_VARIABLES = ("LICENSE_SVC_CONFIG", "LICENSE_SVC_DATABASE_URL", "LICENSE_SVC_DATA_DIR",
                  "LICENSE_SVC_ENV", "LICENSE_SVC_KEYS_DIR", "LICENSE_SVC_PEERS",
                  "LICENSE_SVC_REGION", "PROMETHEUS_MULTIPROC_DIR")


def node_environment(region: str, keys_dir: Path, data_dir: Path, urls: dict[str, str], *,
                     base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """The environment of one development node: its region, its own key store and data
    directory (so its own SQLite database), the peers' addresses; `extra` as
    LICENSE_SVC_<NAME> (e.g. sync_interval_minutes="0.05")."""
    import os

    env = {k: v for k, v in (os.environ if base is None else base).items()
           if k not in NODE_VARIABLES}
    env.update(LICENSE_SVC_REGION=region, LICENSE_SVC_ENV="development",
               LICENSE_SVC_KEYS_DIR=str(Path(keys_dir).resolve()),
               LICENSE_SVC_DATA_DIR=str(Path(data_dir).resolve()),
               LICENSE_SVC_PEERS=peers_setting(urls))
    env.update({f"LICENSE_SVC_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def serve_command(region: str, port: int, host: str = HOST) -> list[str]:
    import sys

    return [sys.executable, "-m", "license_svc", "serve", "--region", region, "--host", host,
            "--port", str(port)]


def is_serve_process(pid: int) -> bool:
    """Whether `pid` is a live (not zombie) `license_svc serve` process — checked before
    signalling a PID read from a file, which may have been reused by another program."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and b"license_svc" in cmdline and b"serve" in cmdline


def stop_processes(pids: list[int], *, timeout: float = 15.0, poll=None) -> list[int]:
    """SIGTERM each serve process (a graceful uvicorn shutdown: the sync task is joined, the
    database closed), wait up to `timeout` seconds, SIGKILL what is left.  `poll()` is called
    while waiting (the parent reaps its children with it).  Returns the PIDs that were killed."""
    import os
    import signal
    import time

    live = [p for p in pids if is_serve_process(p)]
    for pid in live:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if poll is not None:
            poll()
        live = [p for p in live if is_serve_process(p)]
        if not live:
            return []
        time.sleep(0.1)
    for pid in live:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if poll is not None:
        poll()
    return live
