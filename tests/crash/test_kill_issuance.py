"""kill -9 of the service while clients issue licences (1,000 in batches; singles from several
threads), then a restart on the same database: every licence a client received a 201 for is
stored exactly once, nothing is stored that no client was given, the interrupted requests
complete when retried with their Idempotency-Key, each licence has its one `issued` event,
status-list slot and `licence.issue` audit entry, and `license-svc audit verify` passes.

On SQLite here; on PostgreSQL in the CI's second run (tests/crash/conftest.py)."""

import time
import uuid

import httpx
import pytest
from sqlalchemy import text

from license_svc.licences.bitstring import Bitstring
from license_svc.licences.issue import MAX_BATCH
from tests.support.crash_load import (ISSUER, Load, batch_requests, check_audit_log,
                                      check_stored, single_requests)

pytestmark = pytest.mark.slow


def _kill_during(service, plan, *, threads: int, kill_after: int):
    """Clients work through `plan`; after `kill_after` 201s the service is SIGKILLed with
    requests in flight; it is started again and every request without its 201 is retried."""
    node = service.start()
    load = Load(node.url, node.clients[ISSUER], plan, threads=threads).start()
    load.wait_for(lambda: load.count(201) >= kill_after, timeout=300,
                  what=f"{kill_after} answers 201")
    load.halt()
    service.kill()
    load.stop()
    cut = [p for p in plan if p.interrupted]
    assert cut, "no request was in flight when the service was killed"
    started = time.monotonic()
    node = service.start()
    print(f"restart after kill -9: {time.monotonic() - started:.1f} s")
    retried = load.complete(node.url)
    assert {p.key for p in cut} <= {p.key for p in retried}
    return node, load, cut


def _status_lists_agree(node, engine, stored: dict[str, str]) -> None:
    """Every licence has a status-list slot no other licence has; a sample's signed status
    says active at that slot; after one is suspended, the issuer's signed lists have exactly
    that slot set among ours."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT identifier, status_list, status_index FROM licence_versions"))
        slots = {i: (lid, idx) for i, lid, idx in rows if i in stored}
    assert len(slots) == len(stored) and len(set(slots.values())) == len(slots)
    victim = sorted(stored)[0]
    with httpx.Client(base_url=node.url, timeout=30) as http:
        for ident in sorted(stored)[:: max(1, len(stored) // 10)]:
            payload = http.get(f"/api/v1/licences/{ident}/status").json()["payload"]
            assert payload["status"] == "active", (ident, payload["status"])
            assert (payload["status_list"]["list"], payload["status_list"]["index"]) == slots[ident]
        r = http.post(f"/api/v1/licences/{victim}/suspend", json={"reason": "崩溃测试"},
                      headers=node.auth(ISSUER))
        assert r.status_code == 200, r.text
        lists = {}
        for lid in sorted({lid for lid, _ in slots.values()}):
            _region, issuer, part = lid.split("-")
            payload = http.get(f"/api/v1/status-lists/{issuer}", params={"part": int(part)}).json()
            assert payload["payload"]["list"] == lid, payload
            lists[lid] = Bitstring.decode(payload["payload"]["encoded_list"],
                                          payload["payload"]["entries"])
    flagged = {i for i, (lid, idx) in slots.items() if lists[lid].get(idx) != "active"}
    assert flagged == {victim}


def test_kill_during_1000_licence_batches(service, engine, tmp_path):
    tag = f"batch{uuid.uuid4().hex[:6]}"
    assert MAX_BATCH == 100  # the route's limit: 1,000 licences are ten batches
    plan = batch_requests(10, MAX_BATCH, tag)
    node, load, cut = _kill_during(service, plan, threads=2, kill_after=3)
    stored = check_stored(engine, load, tag)
    assert len(stored) == 1000
    _status_lists_agree(node, engine, stored)
    manifest = check_audit_log(engine, service, tmp_path / "audit")
    assert manifest["size"] >= 1000
    print(f"batches cut by kill -9: {[p.key for p in cut]}; replayed on retry: "
          f"{[p.key for p in cut if p.replayed]}")


def test_kill_during_single_issuance(service, engine, tmp_path):
    tag = f"single{uuid.uuid4().hex[:6]}"
    plan = single_requests(80, tag)
    node, load, cut = _kill_during(service, plan, threads=4, kill_after=30)
    assert len(cut) >= 1
    stored = check_stored(engine, load, tag)
    assert len(stored) == 80
    _status_lists_agree(node, engine, stored)
    check_audit_log(engine, service, tmp_path / "audit")
    print(f"requests cut by kill -9: {len(cut)}; replayed on retry: {sum(p.replayed for p in cut)}")
