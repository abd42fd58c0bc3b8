"""Coverage-guided fuzzing of every parser of hostile input (atheris / libFuzzer).

    .venv/bin/python bench/fuzz.py --budget 100000                 # every parser, 10^5 inputs each
    .venv/bin/python bench/fuzz.py --budget 2000 --parser seal --parser qr-text --seconds 60
    nice -n 19 .venv/bin/python bench/fuzz.py --budget 1000000 --seconds 3000 --jobs 9 --json out.json

Parsers (bench/fuzz_targets.py): seal, qr-text, qr-image, pdf, ofd, status, trustlist,
checkpoint, api.  Each is seeded with real inputs the project makes (bench/fuzz_seeds.py: a dev
node issues licences over the API and the artefacts are fetched) and runs in its own subprocess,
as libFuzzer wants: it owns the process and exits it.  The worker catches every exception itself
and keeps going, so one run reports all crashes, not just the first.

Per parser it reports inputs run, crashes (see fuzz_targets for what counts), and slow inputs
(over 1 s); each crashing input is saved under bench/fuzz_crashes/<parser>-<sha1>.bin
with a .txt beside it (the traceback); slow ones go to <log dir>/slow/.  Exit status 1 when any parser crashed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
CRASH_DIR = ROOT / "bench" / "fuzz_crashes"
SLOW_SECONDS = 1.0
DONE_RE = re.compile(rb"Done (\d+) runs in (\d+) second")


# -- the worker (one parser, one process) ------------------------------------------------------

class _Stats:
    def __init__(self, path: Path, parser: str, crash_dir: Path):
        self.path, self.parser, self.crash_dir = path, parser, crash_dir
        self.inputs = 0
        self.crashes: dict[str, dict] = {}   # signature (type + place) -> first example
        self.crash_count = 0
        self.slow: list[dict] = []
        self.started = time.monotonic()
        self._flushed = 0.0

    def _save(self, data: bytes, text: str, folder: Path | None = None) -> str:
        folder = folder or self.crash_dir
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{self.parser}-{hashlib.sha1(data).hexdigest()[:16]}"
        (folder / f"{name}.bin").write_bytes(data)
        (folder / f"{name}.txt").write_text(text)
        return str(folder / name)

    def crash(self, data: bytes, exc: BaseException) -> None:
        self.crash_count += 1
        tb = traceback.extract_tb(exc.__traceback__)
        where = f"{tb[-1].filename}:{tb[-1].lineno}" if tb else "?"
        key = f"{type(exc).__name__} at {where}"
        if key not in self.crashes:
            text = "".join(traceback.format_exception(exc))
            self.crashes[key] = {"signature": key, "message": str(exc)[:300],
                                 "file": self._save(data, text), "count": 0}
            self.flush(force=True)
        self.crashes[key]["count"] += 1

    def slow_input(self, data: bytes, seconds: float) -> None:
        if len(self.slow) < 20:
            self.slow.append({"seconds": round(seconds, 2), "size": len(data),
                              "file": self._save(data, f"slow input: {seconds:.2f} s\n",
                                                 self.path.parent / "slow")})
            self.flush(force=True)

    def flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._flushed < 1.0:
            return
        self._flushed = now
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"parser": self.parser, "inputs": self.inputs,
                                   "seconds": round(now - self.started, 1),
                                   "crashes": self.crash_count, "unique": list(self.crashes.values()),
                                   "slow": self.slow}, ensure_ascii=False))
        tmp.replace(self.path)


def worker(parser: str, seed_dir: Path, budget: int, seconds: int, stats_path: Path,
           crash_dir: Path) -> None:
    import atheris

    from formats import libraries

    libraries.install()
    import logging

    logging.disable(logging.CRITICAL)  # pyHanko logs every refused path with a traceback
    import fuzz_targets

    target = fuzz_targets.ALL[parser]()
    seeds = [p.read_bytes() for p in sorted(seed_dir.iterdir())]
    target.setup(seeds)
    # Instrument after set-up: the modules are loaded, and libFuzzer sees their branches.
    atheris.instrument_all() if os.environ.get("FUZZ_INSTRUMENT_ALL") else _instrument(
        atheris, target.instrument)
    stats = _Stats(stats_path, parser, crash_dir)

    def one(data: bytes) -> None:
        stats.inputs += 1
        t0 = time.perf_counter()
        try:
            target(data)
        except Exception as exc:  # noqa: BLE001 - every unexpected exception is the finding
            stats.crash(data, exc)
        dt = time.perf_counter() - t0
        if dt > SLOW_SECONDS:
            stats.slow_input(data, dt)
        stats.flush()

    corpus = Path(tempfile.mkdtemp(prefix=f"fuzz-corpus-{parser}-"))
    for i, s in enumerate(seeds):
        (corpus / f"seed-{i}").write_bytes(s)
    stats.flush(force=True)
    argv = [sys.argv[0], f"-runs={budget}", f"-max_total_time={seconds}",
            f"-max_len={target.max_len}", "-timeout=60", "-rss_limit_mb=4096",
            "-print_final_stats=1", f"-artifact_prefix={stats_path.parent}/", str(corpus)]
    import atexit

    atexit.register(lambda: stats.flush(force=True))
    atheris.Setup(argv, one)
    atheris.Fuzz()


def _instrument(atheris, prefixes: tuple[str, ...]) -> None:
    """Instrument every loaded function of our packages (and of the listed libraries)."""
    import types

    for name, module in list(sys.modules.items()):
        if not any(name == p or name.startswith(p + ".") for p in prefixes):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, types.FunctionType) and value.__module__ == name:
                try:
                    atheris.instrument_func(value)
                except Exception:  # noqa: BLE001,S112 - builtins, C functions: not instrumentable
                    continue
            elif isinstance(value, type) and value.__module__ == name:
                for attr in list(vars(value).values()):
                    fn = getattr(attr, "__func__", attr)
                    if isinstance(fn, types.FunctionType):
                        try:
                            atheris.instrument_func(fn)
                        except Exception:  # noqa: BLE001,S112
                            continue


# -- the driver --------------------------------------------------------------------------------

def run_parser(parser: str, seed_dir: Path, budget: int, seconds: int, crash_dir: Path,
               log_dir: Path) -> dict:
    stats_path = log_dir / f"{parser}.json"
    log_path = log_dir / f"{parser}.log"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", parser, "--seeds",
           str(seed_dir), "--budget", str(budget), "--seconds", str(seconds), "--stats",
           str(stats_path), "--crash-dir", str(crash_dir)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        try:
            # libFuzzer stops itself at -max_total_time; the margin covers set-up (seeds, trust).
            rc = proc.wait(timeout=seconds + 300)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {
        "parser": parser, "inputs": 0, "crashes": 0, "unique": [], "slow": []}
    done = DONE_RE.findall(log_path.read_bytes())
    if done:  # libFuzzer's own count is exact; ours is flushed once a second
        stats["inputs"] = int(done[-1][0])
        stats["seconds"] = max(int(done[-1][1]), stats.get("seconds") or 0)
    stats.update(rc=rc, wall_seconds=round(time.monotonic() - t0, 1), log=str(log_path))
    if rc not in (0,) and not stats["crashes"]:
        # the worker died outside our try (libFuzzer timeout / OOM / a C crash): that is a crash
        tail = log_path.read_bytes()[-2000:].decode("utf-8", "replace")
        stats["crashes"] = 1
        stats["unique"].append({"signature": f"worker exit {rc}", "message": tail[-300:],
                                "file": str(log_path), "count": 1})
    return stats


def main(argv: list[str] | None = None) -> int:
    from fuzz_targets import TARGETS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=int, default=10_000, help="inputs per parser")
    ap.add_argument("--parser", action="append", choices=sorted(TARGETS),
                    help="parser to fuzz (repeatable; default all)")
    ap.add_argument("--seconds", type=int, default=600, help="time limit per parser")
    ap.add_argument("--jobs", type=int, default=1, help="parsers fuzzed at once")
    ap.add_argument("--seed-cache", type=Path, default=Path(tempfile.gettempdir()) / "license-svc-fuzz-seeds")
    ap.add_argument("--crash-dir", type=Path, default=CRASH_DIR)
    ap.add_argument("--log-dir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="write the per-parser results here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--seeds", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        worker(args.worker, args.seeds, args.budget, args.seconds, args.stats, args.crash_dir)
        return 0

    parsers = args.parser or list(TARGETS)
    seed_counts = _seeds(args.seed_cache)
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="license-svc-fuzz-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"seeds: {seed_counts}; logs in {log_dir}", flush=True)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda p: run_parser(p, args.seed_cache / p, args.budget,
                                                     args.seconds, args.crash_dir, log_dir),
                                parsers))
    print(f"{'parser':<11} {'inputs':>9} {'inputs/s':>9} {'crashes':>8} {'slow>1s':>8}  findings")
    for r in results:
        rate = r["inputs"] / max(r.get("seconds") or 0, 1)
        sigs = "; ".join(f"{u['signature']} ×{u['count']} ({u['file']})" for u in r["unique"])
        print(f"{r['parser']:<11} {r['inputs']:>9} {rate:>9.1f} {r['crashes']:>8} "
              f"{len(r['slow']):>8}  {sigs}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 1 if any(r["crashes"] for r in results) else 0


def _seeds(cache: Path) -> dict:
    """Seeds are made in a subprocess too: the driver itself stays small and import-free."""
    out = subprocess.run([sys.executable, "-c", "import sys, json; sys.path[:0] = sys.argv[2:]; "
                          "from formats import libraries; libraries.install(); import fuzz_seeds; "
                          "from pathlib import Path; print(json.dumps(fuzz_seeds.build(Path(sys.argv[1]))))",
                          str(cache), str(ROOT), str(ROOT / "bench")],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit("could not make the seed inputs")
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
