"""免证办 retrieval on loopback: a local retrieval next to a cross-region one, in the same run.

    python bench/retrieval.py                      # 200 sequential + 5 s with 8 clients, each kind
    python bench/retrieval.py --count 500 --seconds 10 --clients 8

Two real nodes (js and zj), each on its own exported one-region key store and SQLite database
(tests/support/nodes.py, as `license-svc federation dev-up` starts them).  js issues one
driving licence to its dev citizen, who grants js's and zj's dev relying departments unlimited
uses for one matter.  Then, with `want: data`:

- local: js-relying asks the js node (`POST /api/v1/retrievals`): grant, licence, use, audit;
- cross: zj-relying asks the zj node for the js licence (`region: js`): zj signs a node request,
  js verifies it (node certificate in zj's synced list, nonce), decides and audits, zj audits.

Latency: `--count` requests one after another (p50, p99 as the client sees them).
Throughput: `--clients` threads posting for `--seconds` (retrievals per second, all 200).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOLDER = "32010219850612123X"   # js-citizen (keys_dev/clients.json)
MATTER = "YRD000-003-0001"  # a Delta-wide matter (scenario list) accepting driving licences
DEPTS = {"js": "11320000MB0000300E", "zj": "11330000MB0000300J"}


def setup(js) -> str:
    from holders import created
    from tests.support.issuing import example

    body = example("driving_licence", issuer_code="11320000MB0000020F")
    body["holders"][0].update(code=HOLDER, name="李四")
    body["fields"].update(birth_date="1985-06-12")
    created(js.post("/api/v1/licences", json=body, headers=js.auth("js-issuer-traffic")),
            "issue the js citizen's driving licence")
    until = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    for region, org in DEPTS.items():
        r = js.post("/api/v1/grants", headers=js.auth("js-citizen"), json={
            "grantee_org": org, "grantee_region": region, "licence_type": "driving_licence",
            "matter_code": MATTER, "valid_until": until, "max_uses": None})
        r.raise_for_status()
        DEPT_GRANTS[region] = r.json()["id"]
    return r.json()["id"]


DEPT_GRANTS: dict[str, str] = {}


def request(node, region: str):
    body = {"holder_code": HOLDER, "holder_code_type": "111", "licence_type": "driving_licence",
            "matter_code": MATTER, "grant_id": DEPT_GRANTS[region], "want": "data",
            "region": "js"}
    return f"{node.url}/api/v1/retrievals", body, node.auth(f"{region}-relying")


def latency(node, region: str, count: int) -> list[float]:
    url, body, headers = request(node, region)
    times = []
    with httpx.Client(timeout=30) as http:
        for _ in range(count):
            t0 = time.perf_counter()
            r = http.post(url, json=body, headers=headers)
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
    return times


def throughput(node, region: str, clients: int, seconds: float) -> float:
    url, body, headers = request(node, region)
    done, failed = [0] * clients, []
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        with httpx.Client(timeout=30) as http:
            while time.perf_counter() < stop:
                r = http.post(url, json=body, headers=headers)
                if r.status_code != 200:
                    failed.append(r.text[:200])
                    return
                done[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        raise SystemExit(f"a retrieval failed: {failed[0]}")
    return sum(done) / (time.perf_counter() - t0)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    from tests.support.nodes import running_nodes, wait_until  # real processes, stopped by PID

    with tempfile.TemporaryDirectory() as tmp, running_nodes(["js", "zj"], Path(tmp)) as nodes:
        js, zj = nodes["js"], nodes["zj"]
        for node in (js, zj):
            node.sync()
        wait_until(lambda: js.usable("zj") and zj.usable("js"), timeout=30, what="lists synced")
        setup(js)
        kinds = {"local (js→js)": (js, "js"), "cross (zj→js)": (zj, "zj")}
        for node, region in kinds.values():   # warm-up: connections, caches, the trust state
            latency(node, region, 10)
        print(f"{'kind':<16}{'p50 ms':>9}{'p99 ms':>9}{f'retrievals/s ({args.clients} clients)':>32}")
        for name, (node, region) in kinds.items():
            times = latency(node, region, args.count)
            rate = throughput(node, region, args.clients, args.seconds)
            print(f"{name:<16}{pct(times, 50):>9.1f}{pct(times, 99):>9.1f}{rate:>32.1f}")


if __name__ == "__main__":
    main()
