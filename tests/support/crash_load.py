"""Client load for the crash tests (tests/crash/): issuance requests that each carry their own
Idempotency-Key and a marker in the licence data, sent by several client threads while the
service (or its database) is taken away, then retried until every one got its 201; and what
the database must hold afterwards, read with plain SQL (not through the service).

    plan = single_requests(40, tag)            # or batch_requests(10, 100, tag)
    load = Load(node.url, api_key, plan, threads=4).start()
    load.wait_for(201, count=20, timeout=60)   # then kill something
    load.stop()
    load.complete(node.url)                    # retry everything without a 201, same keys
    check_stored(engine, load, tag)           # exactly the licences the clients were given
"""

from __future__ import annotations

import json
import queue
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine, text

from tests.support.issuing import example

SINGLE = "/api/v1/licences"
BATCH = "/api/v1/licences/batch"
ISSUER = "sh-issuer-amr"
REQUEST_TIMEOUT = 60.0  # seconds; a request answered later than this counts as a hang


@dataclass
class Planned:
    """One request and everything that happened to it."""

    key: str
    path: str
    body: Any
    markers: list[str]
    answers: list[int | str] = field(default_factory=list)  # status codes or exception names
    identifiers: list[str] | None = None   # from the (first) 201
    replayed: bool = False                 # the 201 was an idempotent replay
    problems: list[dict] = field(default_factory=list)  # non-201 problem bodies
    slowest: float = 0.0                   # seconds, over all attempts

    @property
    def done(self) -> bool:
        return self.identifiers is not None

    @property
    def interrupted(self) -> bool:
        """Sent at least once without an answer (connection cut or refused)."""
        return any(isinstance(a, str) for a in self.answers)


def _licence(tag: str, n: int) -> tuple[dict, str]:
    """The nth licence of a run: a company of its own (one 营业执照 per USCC, docs/issuance.md
    "No duplicates"), numbered apart from other runs' on the same database by the tag."""
    marker = f"{tag}-{n:05d}"
    body = example("business_licence", 1 + n + 10_000 * (zlib.crc32(tag.encode()) % 900))
    body["fields"]["address"] = f"上海市浦东新区张江路{n}号（{marker}）"
    return body, marker


def single_requests(count: int, tag: str) -> list[Planned]:
    out = []
    for n in range(count):
        body, marker = _licence(tag, n)
        out.append(Planned(f"{tag}-single-{n}", SINGLE, body, [marker]))
    return out


def batch_requests(batches: int, size: int, tag: str) -> list[Planned]:
    out = []
    for b in range(batches):
        items = [_licence(tag, b * size + i) for i in range(size)]
        out.append(Planned(f"{tag}-batch-{b}", BATCH, {"licences": [i[0] for i in items]},
                           [i[1] for i in items]))
    return out


def send(client: httpx.Client, base_url: str, api_key: str, p: Planned) -> None:
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": p.key}
    started = time.monotonic()
    try:
        r = client.post(base_url + p.path, json=p.body, headers=headers)
    except httpx.TimeoutException as exc:
        raise AssertionError(f"{p.key}: no answer within {REQUEST_TIMEOUT:.0f}s (a hang)") from exc
    except httpx.TransportError as exc:
        p.answers.append(type(exc).__name__)
        return
    finally:
        p.slowest = max(p.slowest, time.monotonic() - started)
    p.answers.append(r.status_code)
    if r.status_code == 201:
        body = r.json()
        ids = [body["identifier"]] if p.path == SINGLE else body["identifiers"]
        if p.identifiers is None:
            p.identifiers = ids
            p.replayed = r.headers.get("Idempotent-Replayed") == "true"
        else:
            assert p.identifiers == ids, f"{p.key}: a second 201 with other licences"
    else:
        try:
            p.problems.append({"status": r.status_code, "content_type": r.headers.get("content-type"),
                               "retry_after": r.headers.get("retry-after"), **r.json()})
        except ValueError:
            p.problems.append({"status": r.status_code, "text": r.text[:500]})


class Load:
    """`threads` client threads working through `plan` in order, each request once, until
    the plan is used up or `stop()`; a request that fails is left for `complete`."""

    def __init__(self, base_url: str, api_key: str, plan: list[Planned], *, threads: int,
                 repeat_failed: bool = False, pause: float = 0.0):
        self.base_url, self.api_key, self.plan = base_url, api_key, plan
        self.repeat_failed = repeat_failed  # keep retrying non-201 answers (outage tests)
        self.pause = pause  # seconds each client waits between requests (a steady load)
        self._todo: queue.Queue[Planned] = queue.Queue()
        for p in plan:
            self._todo.put(p)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True, name=f"crash-client-{i}")
                         for i in range(threads)]
        self.errors: list[BaseException] = []

    def start(self) -> "Load":
        for t in self._threads:
            t.start()
        return self

    def _run(self) -> None:
        try:
            with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
                while not self._stop.is_set():
                    try:
                        p = self._todo.get_nowait()
                    except queue.Empty:
                        return
                    send(client, self.base_url, self.api_key, p)
                    if self.repeat_failed and not p.done:
                        self._todo.put(p)
                    if self.pause or not p.done:
                        time.sleep(self.pause or 0.05)
        except BaseException as exc:  # reported by stop()
            self.errors.append(exc)

    def count(self, status: int) -> int:
        return sum(1 for p in self.plan for a in p.answers if a == status)

    def wait_for(self, predicate, *, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.errors:
                raise self.errors[0]
            if not any(t.is_alive() for t in self._threads):
                raise AssertionError(f"the clients finished before {what}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(0.02)

    def halt(self) -> None:
        """No client starts another request; those in flight go on (kill the service now)."""
        self._stop.set()

    def stop(self, timeout: float = REQUEST_TIMEOUT + 10) -> None:
        """`halt`, then wait for the client threads to end."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout)
        assert not any(t.is_alive() for t in self._threads), "a client thread did not end"
        if self.errors:
            raise self.errors[0]

    def drop_unsent(self) -> None:
        """Forget the requests no client sent yet (after `stop`): a long plan keeps the load
        going as long as a test needs, without all of it having to be issued."""
        self.plan = [p for p in self.plan if p.answers]

    def complete(self, base_url: str, *, attempts: int = 3) -> list[Planned]:
        """Retry every request without a 201 (same key, same body) until it has one; returns
        those retried.  A retry must succeed at once: the service is up again."""
        retried = [p for p in self.plan if not p.done]
        with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
            for p in retried:
                for _ in range(attempts):
                    send(client, base_url, self.api_key, p)
                    if p.done:
                        break
                assert p.done, f"{p.key}: retry answered {p.answers[-1]} {p.problems[-1:]}"
        return retried

    def given(self) -> list[str]:
        """Every identifier a client received in a 201, in order (duplicates kept)."""
        return [i for p in self.plan if p.done for i in p.identifiers]


# -- what the database holds ------------------------------------------------------------------

def stored_licences(engine: Engine, tag: str) -> dict[str, str]:
    """identifier → marker of every stored licence whose data carries a marker of `tag`."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT identifier, record FROM licence_versions "
                                 "WHERE record LIKE :pat"), {"pat": f"%（{tag}-%"}).all()
    out = {}
    for ident, record in rows:
        address = json.loads(record)["fields"]["address"]
        out[ident] = address[address.index("（") + 1:-1]
    return out


def check_stored(engine: Engine, load: Load, tag: str) -> dict[str, str]:
    """The set of identifiers clients were given in a 201 == the set stored; none stored twice
    (no marker in two licences); each has one `issued` event and one `licence.issue` audit
    entry; and no licence.issue entry names a licence that is not stored.  Returns identifier → marker."""
    given = load.given()
    assert len(given) == len(set(given)), "one identifier given out for two requests"
    stored = stored_licences(engine, tag)
    assert set(given) == set(stored), (
        f"given but not stored: {sorted(set(given) - set(stored))[:5]}, "
        f"stored but never given: {sorted(set(stored) - set(given))[:5]}")
    twice = [m for m, n in Counter(stored.values()).items() if n > 1]
    assert not twice, f"requests issued twice: {twice[:5]}"
    planned = [m for p in load.plan for m in p.markers]
    assert sorted(stored.values()) == sorted(planned), "a planned licence is missing"
    # The marker a client asked for is the one in the licence it was given.
    for p in load.plan:
        assert [stored[i] for i in p.identifiers] == p.markers, f"{p.key}: licences out of order"
    with engine.connect() as conn:
        events = Counter(r[0] for r in conn.execute(text(
            "SELECT identifier FROM licence_events WHERE action = 'issued' AND status = 'active'")))
        all_events = Counter(r[0] for r in conn.execute(text("SELECT identifier FROM licence_events")))
        audited = Counter(r[0] for r in conn.execute(text(
            "SELECT licence_id FROM audit_entries WHERE action = 'licence.issue' "
            "UNION ALL SELECT licence_id FROM audit_queue WHERE action = 'licence.issue'")))
        every = {r[0] for r in conn.execute(text("SELECT identifier FROM licence_versions"))}
    for ident in stored:
        assert events[ident] == 1 and all_events[ident] == 1, f"{ident}: events {all_events[ident]}"
        assert audited[ident] == 1, f"{ident}: {audited[ident]} licence.issue audit entries"
    orphans = set(audited) - every
    assert not orphans, f"licence.issue audit entries for licences never stored: {sorted(orphans)[:5]}"
    return stored


def check_audit_log(engine: Engine, svc, out_dir) -> dict:
    """The log after a crash: indexes 0..n-1 without gaps, no queue row sequenced twice; then
    `license-svc audit export` and `license-svc audit verify` (exit 0: intact, checked with the
    region's key).  Returns the export's manifest."""
    with engine.connect() as conn:
        n, low, high, queued, distinct = conn.execute(text(
            "SELECT count(*), min(idx), max(idx), count(queue_id), count(DISTINCT queue_id) "
            "FROM audit_entries")).one()
    assert n == 0 or (low == 0 and high == n - 1), f"indexes {low}..{high} for {n} entries"
    assert queued == distinct, f"{queued - distinct} queue rows sequenced twice"
    exported = svc.cli("audit", "export", "--out", str(out_dir))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    verified = svc.cli("audit", "verify", "--json", str(out_dir))
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]
    return json.loads((out_dir / "manifest.json").read_text("utf-8"))
