"""Soak: drive one running node over HTTP with a realistic mix for a long time and watch that it
stays flat — memory, open files, database connections — and answers without errors.

    python bench/soak.py --minutes 30                       # starts its own node (SQLite) on :8790
    python bench/soak.py --minutes 5 --rps 20 --clients 4
    python bench/soak.py --minutes 30 --url http://127.0.0.1:8000 --pid 12345   # a node already up
    python bench/soak.py --minutes 30 --database-url postgresql+psycopg://postgres@127.0.0.1/soak

The mix (weights in MIX), as the dev clients of keys_dev/clients.json would send it: issue a
business licence to a company that has none (sh-issuer-amr; bench/holders.py), verify a licence
PDF and an EL1 QR text (sh-relying), retrieve a driving licence under the citizen's grant
(sh-relying; the licence is the demo data's, or issued at the start if the node has none), read a
signed status, and read the audit log's checkpoint and an inclusion proof.  Traffic goes to
loopback only, at `--rps` in total from `--clients` threads, and stops by itself after
`--minutes`.

Each minute: the node's RSS and open file descriptors (/proc), database connections (SQLite: open
descriptors on the database file; PostgreSQL: pg_stat_activity rows for the database), p50/p99
per route and the count of unexpected answers (any status other than the route's expected one;
an issuance answering anything but 201 is one).  Written as a table to stdout and, with --json,
as JSON.  Exit status 1 on any error.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from holders import Holders, created, held  # noqa: E402  (bench/, after the repository root)
from tests.support.issuing import example  # noqa: E402

MIX = {"issue": 1, "verify-pdf": 2, "verify-qr": 3, "retrieve": 2, "status": 4, "audit-proof": 2}
GRANTEE = "11310000MB0000300A"     # sh-relying's organisation
MATTERS = ("310000-000-0001", "YRD000-003-0001")


def _clients() -> dict[str, dict[str, str]]:
    data = json.loads((ROOT / "keys_dev" / "clients.json").read_text())
    return {c["client_id"]: {"Authorization": f"Bearer {c['api_key']}"} for c in data}


# -- the node ----------------------------------------------------------------------------------

def start_node(port: int, data_dir: Path, database_url: str | None) -> subprocess.Popen:
    env = dict(os.environ, LICENSE_SVC_REGION="sh", LICENSE_SVC_ENV="development",
               LICENSE_SVC_DATA_DIR=str(data_dir), LICENSE_SVC_LOG_LEVEL="WARNING",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    if database_url:
        env["LICENSE_SVC_DATABASE_URL"] = database_url
    log = open(data_dir / "serve.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "license_svc", "serve", "--port", str(port),
                             "--log-level", "warning"], env=env, stdout=log, stderr=log, cwd=ROOT)


def wait_ready(http: httpx.Client, url: str, proc: subprocess.Popen | None, seconds: int = 120) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the node exited with {proc.returncode} before it was ready")
        try:
            if http.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} not ready after {seconds} s")


# -- what the node holds open ----------------------------------------------------------------------

def _tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn --workers forks them)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                children = Path(f"/proc/{p}/task/{task}/children").read_text().split()
                todo.extend(int(c) for c in children)
        except OSError:
            pass
    return out


def resources(pid: int, database_url: str) -> dict:
    rss = fds = db = 0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) * 1024
            names = os.listdir(f"/proc/{p}/fd")
        except OSError:
            continue
        fds += len(names)
        if database_url.startswith("sqlite"):
            for n in names:
                try:
                    if os.readlink(f"/proc/{p}/fd/{n}").endswith(".db"):
                        db += 1
                except OSError:
                    pass
    if database_url.startswith("postgresql"):
        db = _pg_connections(database_url)
    return {"rss_mb": round(rss / 2**20, 1), "fds": fds, "db_connections": db}


def _pg_connections(url: str) -> int:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    with psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                         dbname=u.database) as conn:
        # our own monitoring connection is not the node's
        return conn.execute("SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = %s",
                            (u.database,)).fetchone()[0]


# -- the mix -----------------------------------------------------------------------------------

class Mix:
    """The state the operations share: licences issued so far, a grant, the PDF and QR text to
    verify.  Set up over the API, as a client would."""

    def __init__(self, http: httpx.Client, url: str):
        self.http, self.url, self.keys = http, url, _clients()
        self.lock = threading.Lock()
        self.identifiers: list[str] = []
        # companies from a random point on: a node given with --url may hold an earlier soak's
        self.companies = Holders("business_licence", random.randrange(1, 9_000_000))
        first = self._issue()
        self.pdf = self._get(f"/api/v1/licences/{first}/pdf", "sh-issuer-amr").content
        self.qr = self._get(f"/api/v1/licences/{first}/qr?format=text", "sh-issuer-amr").text
        self.grant_id, self.matter = self._grant()

    def _get(self, path: str, client: str) -> httpx.Response:
        r = self.http.get(self.url + path, headers=self.keys[client])
        r.raise_for_status()
        return r

    def _issue(self) -> str:
        ident = created(self._post_issue(), "issue")["identifier"]
        with self.lock:
            self.identifiers.append(ident)
        return ident

    def _post_issue(self) -> httpx.Response:
        return self.http.post(f"{self.url}/api/v1/licences", json=self.companies(), headers={
            **self.keys["sh-issuer-amr"], "Idempotency-Key": uuid.uuid4().hex})

    def _grant(self) -> tuple[str, str]:
        held(self.http.post(f"{self.url}/api/v1/licences", json=example("driving_licence"),
                            headers=self.keys["sh-issuer-traffic"]),
             "the citizen's driving licence")
        until = (datetime.now(timezone.utc) + timedelta(days=300)).isoformat()
        last = ""
        for matter in MATTERS:
            g = self.http.post(f"{self.url}/api/v1/grants", headers=self.keys["sh-citizen"], json={
                "grantee_org": GRANTEE, "licence_type": "driving_licence", "matter_code": matter,
                "valid_until": until, "max_uses": None})
            if g.status_code == 201:
                probe = self._retrieve(g.json()["id"], matter)
                if probe.status_code == 200:
                    return g.json()["id"], matter
                last = f"retrieval {probe.status_code} {probe.text[:200]}"
            else:
                last = f"grant {g.status_code} {g.text[:200]}"
        raise RuntimeError(f"no matter works for a grant: {last}")

    def _retrieve(self, grant_id: str, matter: str) -> httpx.Response:
        return self.http.post(f"{self.url}/api/v1/retrievals", headers=self.keys["sh-relying"], json={
            "holder_code": "310101199003071230", "holder_code_type": "111",
            "licence_type": "driving_licence", "matter_code": matter, "grant_id": grant_id,
            "want": "data", "operator": "王五"})

    def run(self, op: str) -> tuple[int, int]:
        """→ (status, expected status)."""
        h, u = self.http, self.url
        if op == "issue":
            r = self._post_issue()
            if r.status_code == 201:
                with self.lock:
                    self.identifiers.append(r.json()["identifier"])
            return r.status_code, 201
        if op == "verify-pdf":
            r = h.post(f"{u}/api/v1/verify", content=self.pdf,
                       headers={**self.keys["sh-relying"], "content-type": "application/pdf"})
            ok = r.status_code == 200 and r.json().get("indication") == "TOTAL_PASSED"
            return (r.status_code if ok or r.status_code != 200 else 299), 200
        if op == "verify-qr":
            r = h.post(f"{u}/api/v1/verify", json={"qr": self.qr}, headers=self.keys["sh-relying"])
            ok = r.status_code == 200 and r.json().get("indication") == "TOTAL_PASSED"
            return (r.status_code if ok or r.status_code != 200 else 299), 200
        if op == "retrieve":
            return self._retrieve(self.grant_id, self.matter).status_code, 200
        if op == "status":
            with self.lock:
                ident = random.choice(self.identifiers)
            return h.get(f"{u}/api/v1/licences/{ident}/status").status_code, 200
        if op == "audit-proof":
            cp = h.get(f"{u}/api/v1/audit/checkpoint")
            if cp.status_code != 200:
                return cp.status_code, 200
            size = int(cp.text.split("\n")[1])
            r = h.get(f"{u}/api/v1/audit/proof/inclusion",
                      params={"index": random.randrange(size), "size": size})
            return r.status_code, 200
        raise ValueError(op)


# -- the loop ----------------------------------------------------------------------------------

def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def soak(url: str, pid: int, database_url: str, minutes: float, rps: float, clients: int,
         out=sys.stdout) -> list[dict]:
    http = httpx.Client(timeout=60)
    mix = Mix(http, url)
    ops, weights = list(MIX), list(MIX.values())
    samples: dict[str, list[float]] = {op: [] for op in ops}
    errors: list[str] = []
    lock = threading.Lock()
    end = time.monotonic() + minutes * 60
    interval = clients / rps

    def client_loop(i: int) -> None:
        rnd = random.Random(i)
        c = httpx.Client(timeout=60)
        m = Mix.__new__(Mix)
        m.__dict__.update(mix.__dict__, http=c)
        nxt = time.monotonic() + rnd.random() * interval
        while time.monotonic() < end:
            time.sleep(max(0.0, nxt - time.monotonic()))
            nxt += interval
            op = rnd.choices(ops, weights)[0]
            t0 = time.perf_counter()
            try:
                status, expected = m.run(op)
            except httpx.HTTPError as exc:
                status, expected = type(exc).__name__, 200
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                samples[op].append(dt)
                if status != expected:
                    errors.append(f"{op}: {status}")
        c.close()

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    rows = []
    header = (f"{'min':>3} {'rss MB':>7} {'fds':>4} {'db':>3} {'reqs':>5} {'err':>4}  "
              + "  ".join(f"{op} p50/p99 ms" for op in ops))
    print(header, file=out, flush=True)
    minute = 0
    while any(t.is_alive() for t in threads):
        time.sleep(max(0.0, min(60.0, end - time.monotonic())))
        if time.monotonic() >= end:  # the last minute takes the requests still in flight
            for t in threads:
                t.join()
        minute += 1
        with lock:
            taken = {op: v[:] for op, v in samples.items()}
            for v in samples.values():
                v.clear()
            errs = errors[:]
            errors.clear()
        row = {"minute": minute, **resources(pid, database_url),
               "requests": sum(len(v) for v in taken.values()), "errors": len(errs),
               "error_samples": sorted(set(errs))[:5],
               "routes": {op: {"n": len(v), "p50_ms": round(_pct(v, 0.5), 1),
                               "p99_ms": round(_pct(v, 0.99), 1)} for op, v in taken.items()}}
        rows.append(row)
        print(f"{minute:>3} {row['rss_mb']:>7} {row['fds']:>4} {row['db_connections']:>3} "
              f"{row['requests']:>5} {row['errors']:>4}  "
              + "  ".join(f"{r['p50_ms']:>6}/{r['p99_ms']:<7}" for r in row["routes"].values())
              + (f"  {row['error_samples']}" if errs else ""), file=out, flush=True)
    http.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--rps", type=float, default=10, help="requests per second, all clients together")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--url", help="a node already running (loopback); default: start one")
    ap.add_argument("--pid", type=int, help="its process id, for RSS and descriptors (with --url)")
    ap.add_argument("--port", type=int, default=8790)
    ap.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.url and not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("soak traffic goes to loopback only")

    proc = None
    with tempfile.TemporaryDirectory(prefix="license-svc-soak-") as tmp:
        url, pid = args.url, args.pid
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'license-svc-sh.db'}"
        if not url:
            proc = start_node(args.port, Path(tmp), args.database_url or None)
            url, pid = f"http://127.0.0.1:{args.port}", proc.pid
        if pid is None:
            raise SystemExit("--pid is needed with --url")
        try:
            with httpx.Client() as http:
                wait_ready(http, url, proc)
            rows = soak(url, pid, database_url, args.minutes, args.rps, args.clients)
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
