"""Two real nodes (sh and js: `create_app`, each with its own database) served by uvicorn on
127.0.0.1, wired with LICENSE_SVC_PEERS-style settings.  They sync each other's trust lists over
real HTTP (a real 304 on the second round), and a withdrawal published by js reaches sh's QR
verification after one sync."""

import contextlib
import hashlib
import socket
import threading
import time
from datetime import timedelta

import pytest
import uvicorn

from license_svc.federation.publish import withdraw
from license_svc.federation.sync import sync, trust_state
from license_svc.web import create_app
from signing.qr import credentials
from verification import qr as vqr
from verification.report import TOTAL_FAILED, TOTAL_PASSED


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(ctx):
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx=ctx), host="127.0.0.1", port=port,
                                           log_config=None, access_log=False, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "node did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def nodes(settings_factory, ctx_factory):
    closed = f"http://127.0.0.1:{_free_port()}"  # zj and ah are not running
    sh = ctx_factory(settings_factory("sh", peers={"zj": closed, "ah": closed}))
    js = ctx_factory(settings_factory("js", peers={"zj": closed, "ah": closed}))
    with serving(sh) as sh_url, serving(js) as js_url:
        for node in (sh, js):  # LICENSE_SVC_PEERS=sh=…,js=…
            node.settings.peers.update(sh=sh_url, js=js_url)
        yield sh, js


def by_region(outcomes):
    return {(o.kind, o.region): o for o in outcomes}


def test_two_nodes_sync_each_other_over_http(nodes, clock):
    sh, js = nodes
    first = by_region(sync(sh))
    assert first[("trust-list", "js")].outcome == "updated"
    assert first[("trust-list", "js")].url == js.settings.peers["js"] + "/api/v1/trust-list"
    assert first[("trust-list", "zj")].outcome == "unreachable"
    second = by_region(sync(sh))
    assert second[("trust-list", "js")].outcome == "not-modified"  # a real 304 from js

    back = by_region(sync(js))
    assert back[("trust-list", "sh")].outcome == "updated" and back[("trust-list", "js")].url == "local"
    with js.unit_of_work() as s:
        state = trust_state(js, s)
    assert {p["region"] for p in state.payloads()} == {"sh", "js"}
    assert state.unavailable() == ["ah", "zj"]

    # A js withdrawal reaches sh's QR verification after one sync.
    cred = js.keystore.credential("js", "licence_signer", "sm2")
    since = clock() + timedelta(minutes=10)
    with js.unit_of_work() as s:
        withdraw(js, s, hashlib.sha256(cred.cert.dump()).hexdigest(), since=since, reason="测试 / test")
    record = {"identifier": "1.2.156.3005.2.X.Y.Z.001.1", "type_code": "X", "number": "N1",
              "holders": [{"name": "某公司", "code": "91320000MA00000012", "code_type": "001"}],
              "issuer": {"name": cred.org_name, "code": cred.org_code},
              "valid_from": "2026-01-15", "valid_until": "2030-01-14", "region": "js", "version": 1}
    late = credentials.el1_for_record(record, {}, cred.key, cred.cert.dump(),
                                      now=since + timedelta(minutes=1))
    at = since + timedelta(minutes=5)
    with sh.unit_of_work() as s:
        old_trust = vqr.QrTrust.from_trust_lists(trust_state(sh, s).payloads())
    assert vqr.verify_qr_text(late, old_trust, at).indication == TOTAL_PASSED  # not synced yet

    third = by_region(sync(sh))
    assert third[("trust-list", "js")].outcome == "updated"
    assert third[("trust-list", "js")].sequence == first[("trust-list", "js")].sequence + 1
    with sh.unit_of_work() as s:
        trust = vqr.QrTrust.from_trust_lists(trust_state(sh, s).payloads())
    r = vqr.verify_qr_text(late, trust, at)
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "REVOKED")
