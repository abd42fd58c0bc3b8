"""`license-svc federation dev-up` / `dev-down` as a developer runs them: four real nodes, one
region's keys each, every node holding a usable list for every region; dev-down stops them by
PID and dev-up then leaves the foreground.  Slow (four node processes): ~10–20 s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from license_svc.cli.federation import READY_MESSAGE
from license_svc.federation.dev import is_serve_process
from tests.support.nodes import child_env, consecutive_free_ports, wait_until

pytestmark = pytest.mark.slow


def _cli(*args: str, **kwargs):
    return [sys.executable, "-m", "license_svc", *args]


def test_dev_up_four_nodes_sync_everything_and_dev_down_stops_them(tmp_path):
    data = tmp_path / "federation"
    base = consecutive_free_ports(4)
    started = time.monotonic()
    up = subprocess.Popen(_cli("federation", "dev-up", "--base-port", str(base), "--data", str(data),
                               "--wait", "50"),
                          env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(up.stdout.readline, "")), daemon=True)
    reader.start()
    pids: dict = {}
    try:
        wait_until(lambda: any(READY_MESSAGE in line for line in lines) or up.poll() is not None,
                   timeout=70, what="dev-up to report the federation ready")
        assert up.poll() is None, "".join(lines)
        ready_after = time.monotonic() - started
        pids = json.loads((data / "pids.json").read_text(encoding="utf-8"))
        nodes = pids["nodes"]
        assert sorted(nodes) == ["ah", "js", "sh", "zj"]
        assert [nodes[r]["port"] for r in ("sh", "js", "zj", "ah")] == [base, base + 1, base + 2, base + 3]
        out = "".join(lines)
        for region, node in nodes.items():
            assert node["url"] in out and f"{region}-admin" in out  # addresses and client keys
            assert is_serve_process(node["pid"])
            body = httpx.get(f"{node['url']}/readyz", timeout=5).json()
            assert body["region"] == region
            assert body["trust_lists"]["unavailable"] == [], (region, body["trust_lists"])
            assert all(body["trust_lists"]["regions"][r]["usable"] for r in nodes)
            # One region per node: the key store names only its own.
            manifest = json.loads((data / region / "keys" / "manifest.json").read_text(encoding="utf-8"))
            assert set(manifest["regions"]) == {region}

        down = subprocess.run(_cli("federation", "dev-down", "--data", str(data)), env=child_env(),
                              capture_output=True, text=True, timeout=40)
        assert down.returncode == 0, down.stderr
        assert up.wait(timeout=30) == 0, "".join(lines)
        assert not (data / "pids.json").exists()
        for node in nodes.values():
            assert not is_serve_process(node["pid"])
        print(f"dev-up ready after {ready_after:.1f}s; whole test {time.monotonic() - started:.1f}s")
    finally:
        for node in pids.get("nodes", {}).values():  # whatever is left, by PID
            if is_serve_process(node["pid"]):
                os.kill(node["pid"], signal.SIGKILL)
        if up.poll() is None:
            up.kill()
            up.wait(timeout=10)


def test_dev_down_without_nodes_is_a_usage_error(tmp_path):
    done = subprocess.run(_cli("federation", "dev-down", "--data", str(tmp_path)), env=child_env(),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 3 and "no nodes running" in done.stderr
