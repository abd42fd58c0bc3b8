"""Cross-region verification on loopback: what mutual recognition costs next to local checks.

    python bench/federation.py                # 40 licences per region and kind (about a minute)
    python bench/federation.py --count 100

Two real nodes (sh and js), each on its own exported one-region key store and SQLite database,
as `license-svc federation dev-up` starts them.  js issues licences; so does sh — each to a
company of its own (bench/holders.py; a batch of one example would issue one and refuse the
rest).  Then, at the sh node, one client posts each PDF and each EL1 once to `POST
/api/v1/verify`, in turn:

- local:  sh's own licences (trust from sh's own list, status from the local register);
- cross:  js's licences (trust from js's synced list, already cached; status fetched live from
          the js node's signed status route — every licence is new to sh, so every request
          makes one status round trip to js).

For each: p50 and p99 latency seen by the client, and requests per CPU second of the sh server
process (user + system from /proc, so the figure holds on a busy machine; the js node's CPU for
the status answers is reported beside it).  Both kinds run in the same process, so their ratio
is the figure to read.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(region: str, work: Path, urls: dict[str, str]):
    import subprocess

    from license_svc.federation.dev import export_node_store, node_environment, serve_command

    data = work / region
    data.mkdir(parents=True)
    keys = data / "keys"
    export_node_store(region, keys, urls)
    env = node_environment(region, keys, data, urls,
                           base={**os.environ, "PYTHONPATH": str(ROOT)})
    log = open(data / "serve.log", "ab")
    proc = subprocess.Popen(serve_command(region, int(urls[region].rsplit(":", 1)[1])), env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=data,
                            start_new_session=True)
    clients = {c["client_id"]: c["api_key"] for c in json.loads((keys / "clients.json").read_text())}
    return proc, clients


def wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {what}")


def issue(http: httpx.Client, url: str, key: str, issuer_code: str, count: int) -> list[tuple]:
    from holders import Holders, created

    companies = Holders("business_licence", issuer_code=issuer_code)
    out = []
    headers = {"Authorization": f"Bearer {key}"}
    idents = []
    for start in range(0, count, 100):  # the batch route takes at most 100
        r = http.post(f"{url}/api/v1/licences/batch", json=companies.batch(min(100, count - start)),
                      headers=headers, timeout=300)
        idents += created(r, "batch issuance")["identifiers"]
    for ident in idents:
        view = http.get(f"{url}/api/v1/licences/{ident}", headers=headers).json()
        pdf = http.get(f"{url}/api/v1/licences/{ident}/pdf", headers=headers).content
        out.append((ident, pdf, view["el1"]))
    return out


def measure(http, url, key, pid, items, kind) -> dict:
    headers = {"Authorization": f"Bearer {key}"}
    latencies = []
    cpu0 = cpu_seconds(pid)
    for _ident, pdf, el1 in items:
        t = time.perf_counter()
        if kind == "pdf":
            r = http.post(f"{url}/api/v1/verify", headers=headers,
                          files={"file": ("l.pdf", pdf, "application/pdf")})
        else:
            r = http.post(f"{url}/api/v1/verify", headers=headers, json={"qr": el1})
        latencies.append((time.perf_counter() - t) * 1000)
        body = r.json()
        if body.get("indication") != "TOTAL_PASSED":
            raise SystemExit(f"{kind} not TOTAL_PASSED: {[c for c in body['checks'] if not c['passed']]}")
    cpu = cpu_seconds(pid) - cpu0
    latencies.sort()
    return {"p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "per_cpu_s": len(items) / cpu if cpu else float("nan")}


def main() -> None:
    from formats import libraries

    libraries.install()
    from license_svc.federation.dev import stop_processes
    from tests.support.nodes import free_ports  # a port picker, nothing test-only

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=40, help="licences per region and kind")
    args = ap.parse_args()
    ports = dict(zip(("sh", "js", "zj", "ah"), free_ports(4)))
    urls = {r: f"http://127.0.0.1:{p}" for r, p in ports.items()}
    with tempfile.TemporaryDirectory() as tmp:
        procs = {}
        try:
            for region in ("sh", "js"):
                procs[region] = start(region, Path(tmp), urls)
            with httpx.Client(timeout=60) as http:
                for region in procs:
                    wait(lambda r=region: http.get(f"{urls[r]}/readyz").status_code == 200, 60,
                         f"{region} ready")
                for region, (proc, clients) in procs.items():
                    http.post(f"{urls[region]}/api/v1/federation/sync",
                              headers={"Authorization": f"Bearer {clients[region + '-admin']}"})
                sh_clients, js_clients = procs["sh"][1], procs["js"][1]
                wait(lambda: http.get(f"{urls['sh']}/readyz").json()["trust_lists"]["regions"]["js"]["usable"],
                     30, "sh holds js's list")
                codes = {c: _org(Path(tmp) / r / "keys", c) for r, c in
                         (("sh", "sh-issuer-amr"), ("js", "js-issuer-amr"))}
                n = args.count + 3  # each kind gets licences new to sh (live status)
                local = issue(http, urls["sh"], sh_clients["sh-issuer-amr"], codes["sh-issuer-amr"], 2 * n)
                cross = issue(http, urls["js"], js_clients["js-issuer-amr"], codes["js-issuer-amr"], 2 * n)
                key, sh_pid, js_pid = sh_clients["sh-relying"], procs["sh"][0].pid, procs["js"][0].pid
                measure(http, urls["sh"], key, sh_pid, local[:3], "el1")  # warm up both paths
                measure(http, urls["sh"], key, sh_pid, cross[:3], "el1")
                rows = []
                for i, kind in enumerate(("el1", "pdf")):
                    part = slice(i * n + 3, (i + 1) * n)
                    for name, items in (("local", local[part]), ("cross", cross[part])):
                        js0 = cpu_seconds(js_pid)
                        got = measure(http, urls["sh"], key, sh_pid, items, kind)
                        got["js_cpu_ms"] = (cpu_seconds(js_pid) - js0) * 1000 / len(items)
                        rows.append((kind, name, got))
        finally:
            stop_processes([p.pid for p, _ in procs.values()], timeout=15)
    print(f"{'kind':5} {'where':6} {'p50 ms':>8} {'p99 ms':>8} {'per sh CPU s':>13} "
          f"{'js CPU ms/req':>14}")
    for kind, name, got in rows:
        print(f"{kind:5} {name:6} {got['p50']:8.1f} {got['p99']:8.1f} {got['per_cpu_s']:13.1f} "
              f"{got['js_cpu_ms']:14.2f}")
    for kind in ("el1", "pdf"):
        loc = next(g for k, n, g in rows if k == kind and n == "local")
        cro = next(g for k, n, g in rows if k == kind and n == "cross")
        print(f"{kind}: cross-region / local — p50 {cro['p50'] / loc['p50']:.2f}x, "
              f"CPU per request {loc['per_cpu_s'] / cro['per_cpu_s']:.2f}x")


def _org(keys: Path, client_id: str) -> str:
    return next(c["org_code"] for c in json.loads((keys / "clients.json").read_text())
                if c["client_id"] == client_id)


if __name__ == "__main__":
    main()
