"""OFD licence issuance next to PDF issuance, in process, in the same run (docs/ofd.md).

    python bench/ofd_issue.py                      # 5 rounds of 2 s each (~1 min)
    python bench/ofd_issue.py --rounds 2 --seconds 1

Four measurements per round, alternating so that a neighbour's burst on the shared machine hits
both sides alike; the figure is the median over rounds of the ratio within each round:
- `pdf file`: the licence's signed PDF from its record (EL1 QR, page, sealed + timestamped SM2
  signature — `license_svc.licences.artefacts.produce`);
- `ofd file`: the licence's sealed OFD from the same record (page translated from the same
  drawing, fonts, metadata, SM3 references, SES_Signature with a timestamp — `signing.ofd`);
- `issue pdf`: a whole issuance as POST /api/v1/licences does it (SQLite, one thread);
- `issue pdf+ofd`: the same followed by its OFD made and stored (`issue --format both`).
Each issuance is for a company that has no licence yet (bench/holders.py): the same example
again would be refused as a duplicate, not issued.
The goal (issue 18): an OFD costs at most 1.5x its PDF.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ORG = "11310000MB0000010A"


def _rate(fn, seconds: float, minimum: int = 3) -> tuple[float, float]:
    """(operations per second, CPU ms per operation)."""
    n, cpu, start = 0, time.process_time(), time.perf_counter()
    while n < minimum or time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start), (time.process_time() - cpu) * 1000 / n


def main() -> None:
    from formats import libraries

    libraries.install()
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--profile", metavar="NAME", help="profile one measurement instead")
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    from holders import Holders
    from license_svc.auth.clients import upsert_client
    from license_svc.config import Settings
    from license_svc.context import AppContext
    from license_svc.db import upgrade
    from license_svc.licences import artefacts, lifecycle
    from license_svc.licences import issue as issuing
    from license_svc.licences.resources import ofd_signer, org_signing
    from license_svc.licences.seals import licence_seal, seal_der
    from license_svc.licences.signer_check import usable_signer
    from license_svc.templates import load_templates
    from signing.ofd import licence_ofd

    with tempfile.TemporaryDirectory() as tmp:
        ctx = AppContext.create(Settings(region="sh", database_url=f"sqlite:///{tmp}/bench.db",
                                         data_dir=Path(tmp) / "var"))
        upgrade(engine=ctx.engine)
        with ctx.unit_of_work() as s:
            actor, _ = upsert_client(s, client_id="bench", name="bench", region="sh", org_code=ORG,
                                     roles=["issuer"], licence_types=["business_licence"])
        template = load_templates()["business_licence"]
        companies = Holders("business_licence", algorithm="sm2")
        ident = issuing.issue(ctx, actor, companies()).identifiers[0]
        with ctx.unit_of_work() as s:
            version = lifecycle.load_version(s, ident)
            artefacts.stored_ofd(ctx, s, version)  # warm: seal, signer, fonts, static page
            org = next(o for o in ctx.keystore.organisations("sh") if o.code == ORG)
            record = json.loads(version.record)
            es_id = licence_seal(ctx, s, org, template, record)
            pdf_signing = org_signing(ctx, ORG, "sm2", template, es_id, lambda: seal_der(s, es_id))
            signer = ofd_signer(ctx, usable_signer(ctx, s, ORG, "sm2"), es_id,
                                lambda: seal_der(s, es_id))

        def issue_both():
            made = issuing.issue(ctx, actor, companies()).identifiers[0]
            with ctx.unit_of_work() as s:
                artefacts.stored_ofd(ctx, s, lifecycle.load_version(s, made))

        work = {
            "pdf file": lambda: artefacts.produce(template, record, version.data_hash,
                                                  pdf_signing, ctx.now()),
            "ofd file": lambda: licence_ofd(template.layout, template.qr, record, version.el1,
                                            version.data_hash, signer, ctx.now()),
            "issue pdf": lambda: issuing.issue(ctx, actor, companies()),
            "issue pdf+ofd": issue_both,
        }
        if args.profile:
            import cProfile
            import pstats
            cProfile.runctx("for _ in range(30): fn()", {}, {"fn": work[args.profile]}, "/tmp/ofd.prof")
            pstats.Stats("/tmp/ofd.prof").sort_stats("cumtime").print_stats(25)
            return
        runs = {k: [] for k in work}
        for _ in range(args.rounds):
            for name, fn in work.items():
                runs[name].append(_rate(fn, args.seconds))
        ctx.close()

    print(f"OFD vs PDF licence issuance, in process, SQLite, 1 thread, {args.rounds} rounds "
          f"of {args.seconds:g} s (median; best; CPU ms per operation)")
    for name, r in runs.items():
        rates = [x for x, _ in r]
        print(f"  {name:14s} {statistics.median(rates):7.1f}/s  best {max(rates):7.1f}/s  "
              f"{statistics.median(c for _, c in r):6.2f} ms CPU")
    file_ratio = statistics.median(p[0] / o[0] for p, o in zip(runs["pdf file"], runs["ofd file"]))
    issue_ratio = statistics.median(p[0] / b[0] for p, b in zip(runs["issue pdf"],
                                                               runs["issue pdf+ofd"]))
    print(f"  OFD file cost / PDF file cost (median of per-round ratios): {file_ratio:.2f}x "
          f"(goal ≤ 1.5x)")
    print(f"  issuance with OFD / issuance with PDF only:                {issue_ratio:.2f}x")


if __name__ == "__main__":
    main()
