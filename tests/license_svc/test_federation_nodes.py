"""Real one-region nodes (`python -m license_svc serve` on exported key stores, their own
SQLite databases, tests/support/nodes.py): they come up, seed only their own region, publish
their trust list, serve the federation list from the exported file, and sync each other by
themselves — no test-triggered sync here — and stop cleanly."""

from __future__ import annotations

import json
import signal

import pytest

from license_svc.federation.sync import pinned_roots
from signing.keystore import KeyStore
from tests.support.nodes import running_nodes, wait_until
from verification.trustlist import verify_federation_list, verify_trust_list

# 0.05 min = 3 s (± 10 %): the first round runs at start, before the peer listens; the next
# ones pick the peer's list up.
INTERVAL_MINUTES = 0.05


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    with running_nodes(["sh", "js"], tmp_path_factory.mktemp("nodes"),
                       sync_interval_minutes=INTERVAL_MINUTES) as nodes:
        yield nodes


def test_node_on_exported_store_comes_up_with_its_region_only(two_nodes):
    sh, js = two_nodes["sh"], two_nodes["js"]
    ready = sh.readyz()
    assert ready["status"] == "ready" and ready["region"] == "sh"
    # Its own clients work; another region's dev key is unknown here (401), not merely forbidden.
    assert sh.get("/api/v1/federation/status", headers=sh.auth("sh-admin")).status_code == 200
    assert sh.get("/api/v1/federation/status", headers=js.auth("js-admin")).status_code == 401
    assert set(sh.clients) == {c for c in sh.clients if c.startswith("sh-")}
    # Only its own database was written.
    assert sorted(p.name for p in sh.data_dir.glob("*.db")) == ["license-svc-sh.db"]
    assert all(rec.get("level") != "error" for rec in sh.log_records())
    seeded = [r for r in sh.log_records() if r.get("msg") == "dev API clients seeded"]
    assert seeded and seeded[0]["count"] == len(sh.clients) and seeded[0]["region"] == "sh"
    demo = [r for r in sh.log_records() if r.get("msg") == "demo licences issued"]
    assert demo and demo[0]["count"] > 0 and demo[0]["region"] == "sh"


def test_node_publishes_its_trust_list_and_the_federation_file(two_nodes):
    sh = two_nodes["sh"]
    ks = KeyStore.load(sh.keys_dir)
    r = sh.get("/api/v1/trust-list")
    assert r.status_code == 200
    envelope = r.json()
    assert envelope["payload"]["region"] == "sh"
    signer = ks.certificate("sh-trust-list-sm2").dump()
    assert verify_trust_list(envelope, [signer], _now(), region="sh").usable
    assert sh.get("/api/v1/trust-list", headers={"If-None-Match": r.headers["etag"]}).status_code == 304

    fed = sh.get("/api/v1/federation")
    assert fed.status_code == 200
    # its own file's list, or a peer's newer one (each export signs its own, sequence = Unix seconds)
    assert fed.content in {(n.keys_dir / "federation.json").read_bytes() for n in two_nodes.values()}
    assert verify_federation_list(fed.json(), pinned_roots(ks), _now()).usable


def test_nodes_sync_each_other_by_themselves(two_nodes):
    sh, js = two_nodes["sh"], two_nodes["js"]
    for node, peer in ((sh, "js"), (js, "sh")):
        wait_until(lambda node=node, peer=peer: node.usable(peer), timeout=30,
                   what=f"{node.region} holds a usable list for {peer} after an automatic sync")
    overview = sh.trust_lists()
    assert overview["regions"]["js"]["source"] == js.url + "/api/v1/trust-list"
    assert overview["regions"]["sh"]["source"] == "local"
    assert overview["unavailable"] == ["ah", "zj"]  # not running: TRY_LATER
    zj = overview["regions"]["zj"]
    assert zj["state"] == "try-later" and zj["error"] and zj["sequence"] is None and zj["problem"]
    for node in (sh, js):  # by itself: nobody asked either node to sync
        assert not [r for r in node.log_records() if r.get("route") == "/api/v1/federation/sync"]
        assert [r for r in node.log_records() if r.get("msg") == "federation sync round"]


def test_metrics_show_the_trust_list_gauges(two_nodes):
    sh = two_nodes["sh"]
    wait_until(lambda: sh.usable("js"), timeout=30, what="sh holds js's list")
    text = sh.get("/metrics").text
    lines = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
             if line.startswith("license_svc_trust_list_")}
    assert lines['license_svc_trust_list_sequence{region="sh"}'] >= 1
    assert lines['license_svc_trust_list_sequence{region="js"}'] >= 1
    assert lines['license_svc_trust_list_error{region="js"}'] == 0
    assert lines['license_svc_trust_list_error{region="zj"}'] == 1
    assert lines['license_svc_trust_list_usable{region="federation"}'] == 1
    # Each exported store carries a federation list signed at its export (sequence = Unix
    # seconds); a node keeps the newest it has seen, its own file's or a peer's copy.
    sequences = {json.loads((n.keys_dir / "federation.json").read_bytes())["payload"]["sequence"]
                 for n in two_nodes.values()}
    assert lines['license_svc_trust_list_sequence{region="federation"}'] in sequences
    assert 0 <= lines['license_svc_trust_list_age_seconds{region="js"}'] < 600
    assert 'license_svc_trust_list_sequence{region="zj"}' not in lines  # nothing held


def test_sync_task_stops_on_shutdown(tmp_path):
    with running_nodes(["ah"], tmp_path, sync_interval_minutes=0.02) as nodes:  # 1.2 s
        ah = nodes["ah"]
        wait_until(lambda: len([r for r in ah.log_records() if r.get("msg") == "federation sync round"]) >= 2,
                   timeout=20, what="two automatic sync rounds")
        code = ah.stop()
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the SIGTERM after a graceful stop
    messages = [r.get("msg") for r in ah.log_records()]
    assert "Application shutdown complete." in messages
    assert not any("still running after" in (m or "") for m in messages)


def _now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
