"""`license-svc federation dev-up | dev-down`: four development nodes (sh, js, zj, ah) on this
machine, each holding only its own region's keys.

Why a command: mutual recognition is only real when each node holds one region and learns the
others from signed trust lists.  Starting that by hand is four key-store exports, four sets of
environment variables and a wait for the first sync; `dev-up` does it and stays in the
foreground (Ctrl-C stops the nodes), `dev-down` stops them from another terminal.

Layout of `--data DIR` (default ./var/federation):

    DIR/pids.json              the running nodes: region → pid, port, url, log
    DIR/<region>/keys/         the exported key store (`dev-pki export`), clients, federation.json
    DIR/<region>/license-svc-<region>.db, DIR/<region>/serve.log
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import typer

from license_svc.cli import app
from license_svc.cli.common import die

fed_app = typer.Typer(help="本机开发联盟（四个节点）/ a development federation of four nodes")
app.add_typer(fed_app, name="federation")

DEFAULT_DATA = Path("var/federation")
PIDS_FILE = "pids.json"
READY_MESSAGE = "联盟已就绪 / federation ready"


def _read_pids(data: Path) -> dict | None:
    try:
        return json.loads((data / PIDS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _admin_key(keys_dir: Path, region: str) -> str | None:
    clients = json.loads((keys_dir / "clients.json").read_text(encoding="utf-8"))
    return next((c["api_key"] for c in clients if c["client_id"] == f"{region}-admin"), None)


def _node_state(http, url: str) -> tuple[bool, list[str]]:
    """(answers /readyz, regions not usable yet)."""
    import httpx

    try:
        r = http.get(f"{url}/readyz")
    except httpx.HTTPError:
        return False, []
    if r.status_code != 200:
        return False, []
    return True, list(r.json().get("trust_lists", {}).get("unavailable", ["?"]))


def wait_for_federation(nodes: dict[str, dict], procs: dict[str, subprocess.Popen] | None,
                        timeout: float) -> dict[str, list[str]]:
    """Poll every node's /readyz until each answers and holds a usable list for every region,
    asking a node to sync (POST /api/v1/federation/sync, its admin key) once every node is up —
    the sync at a node's start ran before its peers were listening.  Returns what is still
    missing per region ({} when all is well) after at most `timeout` seconds."""
    import httpx

    deadline = time.monotonic() + timeout
    last_sync: dict[str, float] = {}
    missing: dict[str, list[str]] = {r: ["not ready"] for r in nodes}
    with httpx.Client(timeout=3.0) as http:
        while time.monotonic() < deadline:
            for region, node in nodes.items():
                proc = (procs or {}).get(region)
                if proc is not None and proc.poll() is not None:
                    missing[region] = [f"exited with code {proc.returncode}"]
                    return missing
                ready, unavailable = _node_state(http, node["url"])
                missing[region] = unavailable if ready else ["not ready"]
            if not any(missing.values()):
                return {}
            all_up = all(m != ["not ready"] for m in missing.values())
            for region, node in nodes.items():
                if all_up and missing[region] and time.monotonic() - last_sync.get(region, 0) > 2:
                    last_sync[region] = time.monotonic()
                    try:
                        http.post(f"{node['url']}/api/v1/federation/sync", timeout=20.0,
                                  headers={"Authorization": f"Bearer {node['admin_key']}"})
                    except httpx.HTTPError:
                        pass  # polled again below
            time.sleep(0.2)
    return {r: m for r, m in missing.items() if m}


@fed_app.command("dev-up")
def dev_up(base_port: int = typer.Option(8001, "--base-port",
                                         help="sh on this port, js +1, zj +2, ah +3"),
           data: Path = typer.Option(DEFAULT_DATA, "--data", help="key stores, databases, logs, pids"),
           wait: float = typer.Option(60.0, "--wait", help="seconds to wait for the nodes and the first sync")):
    """启动四个开发节点（每个只持有本区域密钥）/ start four development nodes on 127.0.0.1,
    one region's keys each; stay in the foreground until Ctrl-C."""
    from license_svc.config import ConfigError
    from license_svc.federation.dev import (REGION_ORDER, export_node_store, is_serve_process,
                                            node_environment, node_urls, serve_command,
                                            stop_processes)
    from signing.devpki import ExportError

    previous = _read_pids(data)
    if previous and any(is_serve_process(n["pid"]) for n in previous.get("nodes", {}).values()):
        die(f"{data} 中的节点仍在运行，请先执行 license-svc federation dev-down --data {data}",
            f"nodes of {data} are still running; run `license-svc federation dev-down --data {data}` first")
    urls = node_urls(base_port)
    data.mkdir(parents=True, exist_ok=True)
    nodes: dict[str, dict] = {}
    try:
        for region in REGION_ORDER:
            keys_dir = data / region / "keys"
            export_node_store(region, keys_dir, urls)
            nodes[region] = {"url": urls[region], "port": base_port + REGION_ORDER.index(region),
                             "keys_dir": keys_dir, "data_dir": data / region,
                             "log": data / region / "serve.log",
                             "admin_key": _admin_key(keys_dir, region)}
    except (ConfigError, ExportError) as exc:
        die(exc.message_zh, exc.message_en)

    procs: dict[str, subprocess.Popen] = {}

    def stop_all() -> None:
        stop_processes([p.pid for p in procs.values()],
                       poll=lambda: [p.poll() for p in procs.values()])
        for p in procs.values():
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def on_term(_signum, _frame):
        raise KeyboardInterrupt  # `kill <dev-up pid>` stops the nodes like Ctrl-C
    signal.signal(signal.SIGTERM, on_term)
    code = 0
    try:
        for region, node in nodes.items():
            with open(node["log"], "ab") as log:
                # Own session: Ctrl-C reaches dev-up only, which then stops the nodes in order.
                procs[region] = subprocess.Popen(
                    serve_command(region, node["port"]),
                    env=node_environment(region, node["keys_dir"], node["data_dir"], urls),
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True)
        (data / PIDS_FILE).write_text(json.dumps({"parent": _own_pid(), "nodes": {
            r: {"pid": procs[r].pid, "port": n["port"], "url": n["url"], "log": str(n["log"])}
            for r, n in nodes.items()}}, indent=1) + "\n", encoding="utf-8")
        started = time.monotonic()
        missing = wait_for_federation(nodes, procs, wait)
        if missing:
            typer.echo(f"错误：{wait:.0f} 秒内未就绪 / error: not ready within {wait:.0f}s: "
                       + "; ".join(f"{r}: {', '.join(m)}" for r, m in sorted(missing.items())), err=True)
            for region, m in missing.items():
                typer.echo(f"--- {nodes[region]['log']} (tail) ---\n{_tail(nodes[region]['log'])}", err=True)
            code = 1
        else:
            _print_nodes(nodes, time.monotonic() - started)
            code = _foreground(data, procs)
    except KeyboardInterrupt:
        typer.echo("正在停止节点 / stopping the nodes …")
    finally:
        stop_all()
        pids = _read_pids(data)
        if pids is not None and pids.get("parent") == _own_pid():
            (data / PIDS_FILE).unlink(missing_ok=True)
    raise typer.Exit(code)


def _own_pid() -> int:
    import os

    return os.getpid()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _print_nodes(nodes: dict[str, dict], seconds: float) -> None:
    from license_svc.config import REGIONS

    typer.echo(f"{READY_MESSAGE}（{seconds:.1f} 秒；每个节点都持有四个地区的可用信任列表 / every node "
               f"holds a usable trust list for every region)")
    for region, node in nodes.items():
        typer.echo(f"\n[{region}] {REGIONS[region]}  {node['url']}   keys {node['keys_dir']}   "
                   f"log {node['log']}")
        for c in json.loads((node["keys_dir"] / "clients.json").read_text(encoding="utf-8")):
            typer.echo(f"    {c['client_id']:<24} {c['api_key']}")
    typer.echo("\nCtrl-C 停止 / Ctrl-C stops the nodes (or: license-svc federation dev-down)")


def _foreground(data: Path, procs: dict[str, subprocess.Popen]) -> int:
    """Until Ctrl-C, `dev-down` (it removes pids.json first), or a node ending on its own."""
    while True:
        if not (data / PIDS_FILE).exists():
            typer.echo("节点已由 dev-down 停止 / stopped by dev-down")
            return 0
        for region, proc in procs.items():
            if proc.poll() is not None:
                typer.echo(f"错误：节点 {region} 已退出 / error: node {region} exited with code "
                           f"{proc.returncode}", err=True)
                return 1
        time.sleep(0.5)


@fed_app.command("dev-down")
def dev_down(data: Path = typer.Option(DEFAULT_DATA, "--data")):
    """停止 dev-up 启动的节点 / stop the nodes `dev-up` started (by the PIDs in DATA/pids.json)."""
    from license_svc.federation.dev import stop_processes

    pids = _read_pids(data)
    if pids is None:
        die(f"{data / PIDS_FILE} 不存在：没有运行中的节点", f"no {data / PIDS_FILE}: no nodes running")
    # First the file: dev-up sees it gone and knows the nodes' ending is no failure.
    (data / PIDS_FILE).unlink(missing_ok=True)
    nodes = pids.get("nodes", {})
    killed = stop_processes([n["pid"] for n in nodes.values()])
    for region, n in sorted(nodes.items()):
        typer.echo(f"[{region}] pid {n['pid']} {'killed' if n['pid'] in killed else 'stopped'}")
