"""Issuance benchmark: licences/s end to end (validate, identifier, signed record, EL1 QR, render,
sealed + timestamped PDF signature, status slot, signed event, audit entry, commit).

    python bench/issue.py                  # in process and over HTTP, SM2 and RSA (~1 min)
    python bench/issue.py --count 20 --http-count 60 --clients 8 --workers 2

References measured in the same run, printed next to each figure:
- raw SM2 signatures/s (the algorithm layer over a 1 KiB message);
- pyHanko's plain `signers.sign_pdf` with a `SimpleSigner` (RSA, the same region key) on the
  same rendered licence page, no seal, no timestamp: what "just sign a PDF" costs.

HTTP: uvicorn on 127.0.0.1 (this file's `create_app` factory, `--workers` processes) on a
scratch SQLite database, driven by `--clients` concurrent httpx clients.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORG = "11310000MB0000010A"
TYPES = ["business_licence", "food_business_licence"]


def _settings(db_url: str, data_dir: str):
    from license_svc.config import Settings

    return Settings(region="sh", database_url=db_url, data_dir=Path(data_dir))


def create_app():
    """uvicorn factory for the HTTP part (reads the scratch database from the environment)."""
    from license_svc.bootstrap import bootstrap
    from license_svc.web import create_app as make

    ctx = bootstrap(_settings(os.environ["BENCH_DB"], os.environ["BENCH_DATA"]), seed=False)
    return make(ctx=ctx)


def _body(algorithm: str) -> dict:
    from license_svc.templates import load_templates

    body = copy.deepcopy(load_templates()["business_licence"].example)
    body["algorithm"] = algorithm
    return body


def _rate(fn, seconds: float = 1.0, minimum: int = 3) -> float:
    n, start = 0, time.perf_counter()
    while n < minimum or time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def reference_sm2_sign() -> float:
    from signing import algorithms as alg

    key, msg = alg.generate_private_key("sm2"), os.urandom(1024)
    return _rate(lambda: key.sign(msg))


def reference_plain_sign_pdf(ctx, page: bytes, tmp: Path) -> float:
    from asn1crypto import pem
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    from signing import algorithms as alg

    cred = ctx.keystore.credential("sh", "licence_signer", "rsa", org_code=ORG)
    (tmp / "k.pem").write_bytes(alg.dump_private_key(cred.key))
    (tmp / "c.pem").write_bytes(pem.armor("CERTIFICATE", cred.cert.dump()))
    chain = []
    for i, c in enumerate(cred.chain):
        (tmp / f"ca{i}.pem").write_bytes(pem.armor("CERTIFICATE", c.dump()))
        chain.append(str(tmp / f"ca{i}.pem"))
    signer = signers.SimpleSigner.load(str(tmp / "k.pem"), str(tmp / "c.pem"), ca_chain_files=chain)
    meta = signers.PdfSignatureMetadata(field_name="Sig")

    def once():
        out = io.BytesIO()
        signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(page)), meta, signer=signer, output=out)
    return _rate(once, 2.0)


def in_process(ctx, actor, algorithm: str, count: int) -> float:
    from license_svc.licences import issue as issuing

    body = _body(algorithm)
    issuing.issue(ctx, actor, body)  # warm: stamper, seal, fonts
    start = time.perf_counter()
    for _ in range(count):
        issuing.issue(ctx, actor, body)
    return count / (time.perf_counter() - start)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _drive(url: str, key: str, algorithm: str, count: int, clients: int) -> float:
    import httpx

    body = _body(algorithm)
    headers = {"Authorization": f"Bearer {key}"}
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    failures = []

    async def worker(client):
        while not queue.empty():
            queue.get_nowait()
            r = await client.post(f"{url}/api/v1/licences", json=body, headers=headers)
            if r.status_code != 201:
                failures.append(r.text[:200])

    async with httpx.AsyncClient(timeout=120) as client:
        r = await client.post(f"{url}/api/v1/licences", json=body, headers=headers)  # warm
        assert r.status_code == 201, r.text
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        elapsed = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} HTTP issuances failed, e.g. {failures[0]}")
    return count / elapsed


def over_http(db_url: str, data_dir: str, key: str, count: int, clients: int, workers: int) -> dict:
    port = _free_port()
    env = dict(os.environ, BENCH_DB=db_url, BENCH_DATA=data_dir, PYTHONPATH=str(ROOT))
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "issue:create_app", "--factory", "--app-dir",
         str(ROOT / "bench"), "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning", "--no-access-log"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        return {a: asyncio.run(_drive(url, key, a, count, clients)) for a in ("sm2", "rsa")}
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=30, help="licences per algorithm in process")
    ap.add_argument("--http-count", type=int, default=60, help="licences per algorithm over HTTP")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-http", action="store_true")
    args = ap.parse_args()

    from license_svc.auth.clients import upsert_client
    from license_svc.context import AppContext
    from license_svc.db import upgrade
    from license_svc.licences import artefacts  # noqa: F401  (import cost outside timings)
    from license_svc.licences.record import canonical_json  # noqa: F401
    from license_svc.templates import load_templates
    from signing.render import render_licence_pdf

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        db_url = f"sqlite:///{tmp / 'bench.db'}"
        settings = _settings(db_url, str(tmp / "var"))
        ctx = AppContext.create(settings)
        upgrade(engine=ctx.engine)
        with ctx.unit_of_work() as s:
            actor, key = upsert_client(s, client_id="bench", name="bench", region="sh", org_code=ORG,
                                       roles=["issuer"], licence_types=TYPES)
        template = load_templates()["business_licence"]
        record = template.make_record({**template.example, "issuer_code": ORG},
                                      identifier="1.2.156.3005.2.X", number="SH1",
                                      issuer_name="上海市市场监督管理局", region="sh",
                                      issued_on=__import__("datetime").date(2026, 1, 15))
        page = render_licence_pdf(template.layout, record, "EL1:" + "A" * 380)

        sm2_sign = reference_sm2_sign()
        plain = reference_plain_sign_pdf(ctx, page, tmp)
        rows = {"in-process": {a: in_process(ctx, actor, a, args.count) for a in ("sm2", "rsa")}}
        ctx.close()
        if not args.no_http:
            rows[f"HTTP ({args.workers} uvicorn workers, {args.clients} clients)"] = over_http(
                db_url, str(tmp / "var"), key, args.http_count, args.clients, args.workers)

    print(f"# bench/issue.py  (cpus: {os.cpu_count()}, python {sys.version.split()[0]})")
    print(f"reference: raw SM2 sign          {sm2_sign:8.0f} /s")
    print(f"reference: pyHanko sign_pdf      {plain:8.1f} /s  (SimpleSigner, RSA, same page)")
    for name, rates in rows.items():
        for a, r in rates.items():
            print(f"issue {a.upper()} {name:<40} {r:6.1f} licences/s  = {r / plain:4.2f}x sign_pdf,"
                  f" {sm2_sign / r:5.0f} raw SM2 signatures per licence-time")
    print(json.dumps({"sm2_sign_per_s": round(sm2_sign), "plain_sign_pdf_per_s": round(plain, 1),
                      **{f"{n}:{a}": round(r, 1) for n, rs in rows.items() for a, r in rs.items()}},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
