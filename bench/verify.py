"""Verification benchmark: offline QR and PDF verifications per CPU second, next to the raw SM2
verify rate of the algorithm layer measured in the same run.

    python bench/verify.py                 # ~2 s per measurement (about 30 s in all)
    python bench/verify.py --seconds 1     # quicker, noisier

What is measured (one process, one thread of Python; CPU time = user + system of the process):
- raw SM2 verify: `public_key.verify(sig, msg)` over a 1 KiB message (Z_A, SM3, the curve);
- EL1: `verification.dispatch.verify_text` of a genuine printed QR (Base45, zlib, CBOR, COSE,
  one SM2 or PS256 verification, trust and validity checks), status not looked up;
- EL1 + local status: the same with the local register lookup (one SQLite query) that
  `license-svc verify` does when the node's database is present;
- EP1: a fresh 亮证 presentation (two SM2 verifications: node, then the wrapped EL1);
- PDF: `verify_bytes` of a genuine issued licence PDF (strict parse, CMS, SM2/RSA signature,
  timestamp, certificate path with CRLs, SESeal binding and seal), status not looked up.
Licences come from the real issuance pipeline on a scratch SQLite database, one company each
(bench/holders.py: a second example for the same holder would be refused as a duplicate).
Goals (issue "Verification"): >= 1,000 QR/s and >= 100 PDF/s per core.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORG = "11310000MB0000010A"
GOALS = {"qr": 1000.0, "pdf": 100.0}


def rate(fn, seconds: float) -> float:
    """Operations per CPU second of `fn`, run for about `seconds` of wall time."""
    fn()  # warm caches
    done = 0
    wall, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds or done < 3:
        fn()
        done += 1
    return done / (time.process_time() - cpu)


def _licences(tmp: str):
    from holders import Holders
    from license_svc.auth.clients import Client
    from license_svc.bootstrap import bootstrap
    from license_svc.config import Settings
    from license_svc.licences import issue as issuing
    from license_svc.licences import lifecycle

    ctx = bootstrap(Settings(region="sh", database_url=f"sqlite:///{tmp}/bench.db",
                             data_dir=Path(tmp)), seed=False)
    actor = Client("bench", "bench", ORG, "sh", frozenset({"issuer"}))
    out, companies = {}, Holders("business_licence")
    for algorithm in ("sm2", "rsa"):
        ident = issuing.issue(ctx, actor, companies(algorithm=algorithm)).identifiers[0]
        with ctx.unit_of_work() as s:
            v = lifecycle.load_version(s, ident)
            out[algorithm] = (ident, v.el1, v.pdf)
    return ctx, out


def main() -> None:
    from formats import libraries

    libraries.install()  # the OIDs and library patches a program installs first (formats/libraries.py)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))

    from formats import algorithms as alg
    from signing.qr.credentials import make_ep1, make_ep2
    from license_svc.verify_service import status_lookup, verifier_trust
    from verification import dispatch
    from verification.report import TOTAL_PASSED

    with tempfile.TemporaryDirectory() as tmp:
        ctx, lic = _licences(tmp)
        ks = ctx.keystore
        at = ctx.now() + timedelta(seconds=1)
        vt = verifier_trust(ks)
        trust = dispatch.Trust(qr=vt.qr, seal=vt.seal)
        node = ks.credential("sh", "node")
        ep1, _ = make_ep1(node.key, node.cert.dump(), region="sh", el1=lic["sm2"][1], now=at)
        ep2, _ = make_ep2(node.key, node.cert.dump(), region="sh", el1=lic["rsa"][1], now=at)

        def check(report):
            assert report.indication == TOTAL_PASSED, report.to_text()
            return report

        key, msg = alg.generate_private_key("sm2"), os.urandom(1024)
        sig = key.sign(msg)
        rows = [("raw SM2 verify (1 KiB)", "ref", rate(lambda: key.public_key.verify(sig, msg),
                                                       args.seconds))]
        for algorithm in ("sm2", "rsa"):
            el1 = lic[algorithm][1]
            check(dispatch.verify_text(el1, trust, at))
            rows.append((f"EL1 {algorithm.upper()}", "qr",
                         rate(lambda: dispatch.verify_text(el1, trust, at), args.seconds)))
        with ctx.unit_of_work() as session:
            local = dispatch.Trust(qr=vt.qr, seal=vt.seal,
                                   status_lookup=status_lookup(ks, "sh", session, at, None))
            el1 = lic["sm2"][1]
            check(dispatch.verify_text(el1, local, at))
            rows.append(("EL1 SM2 + local status", "qr",
                         rate(lambda: dispatch.verify_text(el1, local, at), args.seconds)))
        check(dispatch.verify_text(ep1, trust, at))
        rows.append(("EP1 SM2 (node + EL1)", "qr",
                     rate(lambda: dispatch.verify_text(ep1, trust, at), args.seconds)))
        check(dispatch.verify_text(ep2, trust, at))
        rows.append(("EP2 of an RSA licence (node)", "qr",
                     rate(lambda: dispatch.verify_text(ep2, trust, at), args.seconds)))
        for algorithm in ("sm2", "rsa"):
            pdf = lic[algorithm][2]
            check(dispatch.verify_bytes(pdf, trust, at))
            rows.append((f"PDF {algorithm.upper()} ({len(pdf) // 1024} KiB)", "pdf",
                         rate(lambda: dispatch.verify_bytes(pdf, trust, at), args.seconds)))
        ctx.close()

    ref = rows[0][2]
    print(f"# verify bench — {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {args.seconds:g} s per row, per CPU second")
    print(f"{'what':28} {'ops/s':>10} {'x raw SM2 verify':>17} {'goal':>7}")
    for name, kind, value in rows:
        goal = GOALS.get(kind)
        mark = "" if goal is None else ("ok" if value >= goal else "MISS")
        print(f"{name:28} {value:10.0f} {value / ref:17.3f} {goal or '':>7} {mark}")


if __name__ == "__main__":
    main()
