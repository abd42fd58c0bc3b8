"""PostgreSQL stopped and started again under load, with the service left running: while the
database is away every request is answered promptly with a bilingual 503 problem (never a 500,
never a hang), /readyz says the database is the problem, the service recovers by itself when
the database is back, and nothing is lost or doubled (the requests answered 503 complete when
retried with their Idempotency-Key).

On a private cluster (tests/support/pg_cluster.py), never the shared server; in both CI runs."""

import signal
import time
import uuid

import httpx
import pytest

from formats import libraries
from license_svc.db import make_engine
from tests.support.crash_load import (ISSUER, Load, check_audit_log, check_stored,
                                      single_requests)
from tests.support.pg_cluster import private_cluster
from tests.support.service import killable_service

pytestmark = pytest.mark.slow
PROBLEM = "urn:license-svc:problem:database-unavailable"
OUTAGE = 3.0  # seconds the database stays down once the first 503 was seen


def test_a_refused_connection_is_a_disconnect_and_a_503(settings_factory, ctx_factory):
    """Fast and without a server: a database that refuses connections (here a closed port)
    raises a DBAPIError marked `connection_invalidated`, and the API answers 503."""
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import OperationalError

    from license_svc.db import make_engine as engine_for
    from license_svc.web import create_app
    from tests.support.nodes import free_ports

    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_ports(1)[0]}/nowhere"
    engine = engine_for(url)
    try:
        with pytest.raises(OperationalError) as err:
            engine.connect()
        assert err.value.connection_invalidated
    finally:
        engine.dispose()
    ctx = ctx_factory(settings_factory("sh", database_url=url))
    with TestClient(create_app(ctx=ctx)) as http:  # the lifespan's background tasks meet it too
        r = http.get("/api/v1/licences/x", headers={"Authorization": "Bearer nokey"})
    assert r.status_code == 503, r.text
    assert r.json()["type"] == PROBLEM and r.headers["retry-after"] == "1"


@pytest.fixture
def cluster():
    with private_cluster() as pg:
        yield pg


def _readyz(node) -> httpx.Response:
    return httpx.get(f"{node.url}/readyz", timeout=30)


def _outage(cluster, node, load, mode: int) -> float:
    """Stop the database (`mode`: SIGINT fast, SIGQUIT immediate = crash recovery at the next
    start) under load, wait for three 503s and /readyz 503, keep it down OUTAGE seconds, start
    it; returns the seconds until five more licences were issued."""
    refused = load.count(503)
    cluster.stop(mode)
    load.wait_for(lambda: load.count(503) >= refused + 3, timeout=60, what="3 answers 503")
    ready = _readyz(node)
    assert ready.status_code == 503, ready.text
    time.sleep(OUTAGE)
    issued = load.count(201)
    cluster.start()
    started = time.monotonic()
    load.wait_for(lambda: load.count(201) >= issued + 5, timeout=60,
                  what="5 more licences after the database came back")
    return time.monotonic() - started


def test_postgres_restart_under_load(cluster, tmp_path):
    libraries.install()
    url = cluster.create_database("license_svc_crash")
    tag = f"pgrestart{uuid.uuid4().hex[:6]}"
    engine = make_engine(url)
    try:
        with killable_service(tmp_path / "node", url) as svc:
            node = svc.start()
            pid = node.pid
            load = Load(node.url, node.clients[ISSUER], single_requests(400, tag), threads=3,
                        repeat_failed=True, pause=0.3).start()
            load.wait_for(lambda: load.count(201) >= 5, timeout=120, what="5 licences issued")
            recovered = [_outage(cluster, node, load, signal.SIGINT),
                         _outage(cluster, node, load, signal.SIGQUIT)]
            load.stop()
            assert node.process.poll() is None and node.pid == pid, "the service was restarted"
            assert _readyz(node).status_code == 200
            load.drop_unsent()
            load.complete(node.url)

            answers = [a for p in load.plan for a in p.answers]
            assert set(answers) <= {201, 503}, sorted(set(map(str, answers)))
            problems = [pr for p in load.plan for pr in p.problems]
            for pr in problems:
                assert pr["type"] == PROBLEM and pr["content_type"] == "application/problem+json", pr
                assert pr["title_zh"] and pr["title_en"] and pr["retry_after"], pr
            check_stored(engine, load, tag)
            check_audit_log(engine, svc, tmp_path / "audit")
            print(f"licences {len(load.given())}, answers 503: {len(problems)}, slowest answer "
                  f"{max(p.slowest for p in load.plan):.1f} s, 5 licences "
                  f"{recovered[0]:.1f} s (fast) / {recovered[1]:.1f} s (immediate) after the "
                  f"database was back")
    finally:
        engine.dispose()
