"""Signing-core benchmark: our algorithm layer next to `openssl speed`, measured in the same run.

    python bench/crypto.py                 # 3 s per measurement (about 40 s in all)
    python bench/crypto.py --seconds 1     # quicker, noisier
    python bench/crypto.py --rounds 3      # alternate openssl/ours 3 times, keep each best
    python bench/crypto.py --check         # exit 1 if the SM2 fast path misses its targets

Why ratios and not absolute numbers: the machine is shared (2 cores), so only a reference run
at the same moment says whether our layer is slow or the machine is busy.  Measurements run one
after another, never in parallel, and both sides divide by CPU time (`openssl speed` uses user
CPU time by default; we use process CPU time, user + system, which is slightly stricter on us).
What each side measures:
- openssl speed sm2: EVP_DigestSign/Verify with SM3 over a 20-byte buffer, so Z_A, e and the
  curve operation, like our `sign(message)` / `verify(signature, message)` on a 20-byte message;
- openssl speed rsa2048: the raw RSA private/public operation; ours adds SHA-256 and PKCS#1 v1.5
  padding, which are small next to the modular exponentiation.
Targets (issue "Foundation", item 2): SM2 fast path sign >= 0.6x and verify >= 0.8x openssl.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass

from formats import algorithms as alg

MESSAGE = b"\x5a" * 20
TARGETS = {("SM2", "tongsuopy", "sign"): 0.6, ("SM2", "tongsuopy", "verify"): 0.8}


@dataclass
class Row:
    algorithm: str
    backend: str
    operation: str
    ours: float = 0.0
    openssl: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.ours / self.openssl if self.openssl else None

    @property
    def target(self) -> float | None:
        return TARGETS.get((self.algorithm, self.backend, self.operation))


def rate(fn, seconds: float) -> float:
    """Operations per CPU second of `fn`, run for `seconds` of wall time in batches.

    CPU time, because that is what `openssl speed` divides by (user time unless -elapsed):
    on a shared machine it keeps both sides comparable when a neighbour takes the core."""
    fn()  # warm caches (Z_A, Tongsuo key objects)
    batch, done = 1, 0
    wall, cpu = time.perf_counter(), time.process_time()
    while True:
        for _ in range(batch):
            fn()
        done += batch
        elapsed = time.perf_counter() - wall
        if elapsed >= seconds:
            return done / (time.process_time() - cpu)
        batch = min(batch * 2, max(1, int(done / elapsed * 0.25)))


def openssl_speed(seconds: int) -> tuple[str, dict[tuple[str, str], float]]:
    """(version, {(alg, op): ops/s}) parsed from `openssl speed -seconds S sm2 rsa2048`."""
    proc = subprocess.run(["openssl", "speed", "-seconds", str(seconds), "sm2", "rsa2048"],
                          capture_output=True, text=True, timeout=seconds * 8 + 60)
    out = proc.stdout + proc.stderr
    version = re.search(r"^version: (\S+)", out, re.M)
    rsa = re.search(r"^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out, re.M)
    sm2 = re.search(r"SM2 \(CurveSM2\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out)
    if proc.returncode != 0 or not rsa or not sm2:
        raise SystemExit(f"could not parse `openssl speed` output:\n{out[-2000:]}")
    return (version.group(1) if version else "?", {
        ("RSA", "sign"): float(rsa.group(1)), ("RSA", "verify"): float(rsa.group(2)),
        ("SM2", "sign"): float(sm2.group(1)), ("SM2", "verify"): float(sm2.group(2)),
    })


def ours(seconds: float, gmssl_seconds: float) -> dict[tuple[str, str, str], float]:
    out = {}
    for backend, secs in (("tongsuopy", seconds), ("gmssl", gmssl_seconds)):
        if secs <= 0:
            continue
        key = alg.generate_private_key("sm2", sm2_backend=backend)
        sig = key.sign(MESSAGE)
        out["SM2", backend, "sign"] = rate(lambda: key.sign(MESSAGE), secs)
        out["SM2", backend, "verify"] = rate(lambda: key.public_key.verify(sig, MESSAGE), secs)
    rsa = alg.generate_private_key("rsa")
    sig = rsa.sign(MESSAGE)
    out["RSA", "cryptography", "sign"] = rate(lambda: rsa.sign(MESSAGE), seconds)
    out["RSA", "cryptography", "verify"] = rate(lambda: rsa.public_key.verify(sig, MESSAGE),
                                                seconds)
    return out


def table(rows: list[Row]) -> str:
    head = f"{'operation':<34}{'ours /s':>10}{'openssl /s':>12}{'ratio':>8}{'target':>9}  "
    lines = [head, "-" * len(head)]
    for r in rows:
        name = f"{r.algorithm}{'-2048' if r.algorithm == 'RSA' else ''} {r.operation} ({r.backend})"
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        target = f">={r.target:.1f}x" if r.target else "-"
        verdict = "" if not r.target else ("ok" if r.ratio >= r.target else "BELOW")
        openssl = f"{r.openssl:,.0f}" if r.openssl else "-"
        lines.append(f"{name:<34}{r.ours:>10,.0f}{openssl:>12}{ratio:>8}{target:>9}  {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from formats import libraries

    libraries.install()  # the OIDs and library patches a program installs first (formats/libraries.py)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0,
                    help="seconds per measurement, ours and openssl's (default 3)")
    ap.add_argument("--gmssl-seconds", type=float, default=None,
                    help="seconds per pure-Python gmssl measurement (default: --seconds; 0 skips)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternate openssl and ours this many times and keep each side's best")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if the SM2 fast path is below its target ratio")
    args = ap.parse_args(argv)
    gm_secs = args.seconds if args.gmssl_seconds is None else args.gmssl_seconds
    ossl_secs = max(1, round(args.seconds))  # openssl speed takes whole seconds

    best_ossl: dict = {}
    best_ours: dict = {}
    version = "?"
    for _ in range(max(1, args.rounds)):
        version, ossl = openssl_speed(ossl_secs)
        for k, v in ossl.items():
            best_ossl[k] = max(v, best_ossl.get(k, 0.0))
        for k, v in ours(args.seconds, gm_secs).items():
            best_ours[k] = max(v, best_ours.get(k, 0.0))

    rows = [Row(a, b, op, v, best_ossl.get((a, op))) for (a, b, op), v in best_ours.items()]
    print(f"Signing core benchmark  {time.strftime('%Y-%m-%d %H:%M')}  "
          f"{platform.machine()} {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, OpenSSL CLI {version}")
    print(f"{args.seconds:g} s per measurement (openssl: -seconds {ossl_secs}), "
          f"{args.rounds} round(s), best of rounds; ops per CPU second; 20-byte message, "
          "one thread\n")
    print(table(rows))
    below = [r for r in rows if r.target and r.ratio < r.target]
    if below:
        print("\nBELOW TARGET: " + ", ".join(f"{r.algorithm} {r.operation}" for r in below))
    return 1 if (args.check and below) else 0


if __name__ == "__main__":
    sys.exit(main())
