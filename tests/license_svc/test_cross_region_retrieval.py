"""Cross-region retrieval (issue 13) on real one-region nodes: a zj department retrieves a js
licence through the zj node under the holder's grant made in the js wallet; refusals are
audited on both nodes under one request id; forged and replayed node signatures are refused at
js's federation route; a withdrawn zj node certificate stops zj's requests; an unreachable
issuing node is 503 peer-unavailable, audited at zj."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from license_svc.federation import node_request
from license_svc.federation.dev import node_environment
from signing.keystore import KeyStore
from tests.support.issuing import example
from tests.support.nodes import child_env, running_nodes, wait_until

pytestmark = pytest.mark.slow

HOLDER = "32010219850612123X"          # js-citizen's own code (keys_dev/clients.json)
ZJ_DEPT = "11330000MB0000300J"         # zj-relying
JS_DEPT = "11320000MB0000300E"         # js-relying (same kind of code, another region)
MATTER = "YRD000-003-0001"  # a Delta-wide matter (scenario list) accepting driving licences
PATH = "/api/v1/federation/retrievals"
PROBLEM = "urn:license-svc:problem:"


def _later(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


def _grant(js, **changes) -> dict:
    body = {"grantee_org": ZJ_DEPT, "grantee_region": "zj", "licence_type": "driving_licence",
            "matter_code": MATTER, "valid_until": _later(3600), "max_uses": 2}
    body.update(changes)
    r = js.post("/api/v1/grants", json=body, headers=js.auth("js-citizen"))
    assert r.status_code == 201, r.text
    return r.json()


def _retrieve(zj, rid: str, **changes):
    body = {"holder_code": HOLDER, "holder_code_type": "111", "licence_type": "driving_licence",
            "matter_code": MATTER, "region": "js", "want": "data", "operator": "钱七"}
    body.update(changes)
    return zj.post("/api/v1/retrievals", json={k: v for k, v in body.items() if v is not ...},
                   headers={**zj.auth("zj-relying"), "X-Request-ID": rid})


def _entries(node, auditor: str, rid: str) -> list[dict]:
    """The node's entries of request `rid` (auditor's search, newest first)."""
    r = node.get("/api/v1/audit/search", params={"limit": 200}, headers=node.auth(auditor))
    assert r.status_code == 200, r.text
    return [e["entry"] for e in r.json()["entries"] if e["entry"]["request_id"] == rid]


def _refused_on_both(js, zj, rid: str, reason: str) -> None:
    on_js = wait_until(lambda: _entries(js, "js-auditor", rid), timeout=10, what=f"js entry {rid}")
    on_zj = wait_until(lambda: _entries(zj, "zj-auditor", rid), timeout=10, what=f"zj entry {rid}")
    assert [e["detail"].get("reason") for e in on_js] == [reason], on_js
    assert on_js[0]["outcome"] == "denied" and on_js[0]["source_region"] == "zj"
    assert on_js[0]["actor"]["org_code"] == ZJ_DEPT
    assert [e["detail"].get("reason") for e in on_zj] == [reason], on_zj
    assert on_zj[0]["outcome"] == "denied" and on_zj[0]["detail"]["remote_region"] == "js"


def _signer(node):
    """A stand-in context signing node requests with `node`'s exported key store."""
    keystore = KeyStore.load(node.keys_dir)
    return SimpleNamespace(region=node.region, keystore=keystore,
                           now=lambda: datetime.now(timezone.utc))


def test_cross_region_retrieval(tmp_path):
    with running_nodes(["js", "zj"], tmp_path) as nodes:
        js, zj = nodes["js"], nodes["zj"]
        for node in (js, zj):
            node.sync()
        wait_until(lambda: js.usable("zj") and zj.usable("js"), timeout=30, what="lists synced")

        # A js licence of the js wallet's holder.
        body = example("driving_licence", issuer_code="11320000MB0000020F")
        body["holders"][0].update(code=HOLDER, name="李四")
        body["fields"].update(birth_date="1985-06-12")
        r = js.post("/api/v1/licences", json=body, headers=js.auth("js-issuer-traffic"))
        assert r.status_code == 201, r.text
        licence_id = r.json()["identifier"]

        grant = _grant(js)
        assert grant["grantee_region"] == "zj"

        # Data, then the PDF (the region comes from licence_id's issuer code here).
        rid = f"xr-{uuid.uuid4()}"
        r = _retrieve(zj, rid, grant_id=grant["id"])
        assert r.status_code == 200, r.text
        assert r.headers["x-request-id"] == rid
        assert [item["identifier"] for item in r.json()["licences"]] == [licence_id]
        r = _retrieve(zj, f"{rid}-pdf", grant_id=grant["id"], want="pdf", region=...,
                      licence_id=licence_id)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
        assert r.headers["x-licence-id"] == licence_id

        on_js = wait_until(lambda: _entries(js, "js-auditor", rid), timeout=10, what="js entry")
        on_zj = wait_until(lambda: _entries(zj, "zj-auditor", rid), timeout=10, what="zj entry")
        for entry in on_js + on_zj:
            assert entry["action"] == "licence.retrieve" and entry["outcome"] == "success"
            assert entry["licence_id"] == licence_id and entry["purpose"] == MATTER
            assert entry["grant_id"] == grant["id"] and entry["request_id"] == rid
            assert entry["actor"] == {"org_code": ZJ_DEPT, "client_id": "zj-relying",
                                      "operator": "钱七"}
            assert entry["source_region"] == "zj"
            assert HOLDER not in json.dumps(entry)
        assert on_zj[0]["detail"]["remote_region"] == "js"

        # The holder sees it in the js wallet, with an inclusion proof once checkpointed.
        def in_wallet():
            log = js.get("/api/v1/holders/me/access-log", headers=js.auth("js-citizen")).json()
            hits = [e for e in log["entries"] if e["entry"]["request_id"] == rid]
            return hits if hits and hits[0]["inclusion_proof"] else None
        seen = wait_until(in_wallet, timeout=20, what="checkpointed access-log entry")[0]
        assert seen["department"]["org_code"] == ZJ_DEPT
        assert seen["department"]["operator"] == "钱七"
        assert seen["department"]["name"]  # the department's name, as zj vouched for it
        assert seen["source_region"] == "zj" and seen["matter_code"] == MATTER

        # Refusals, audited on both nodes with the reason.
        cases = [
            ("no-grant-or-legal-basis", {}),
            ("grant-used-up", {"grant_id": grant["id"]}),
            ("grant-other-matter", {"grant_id": _grant(js)["id"], "matter_code": "YRD000-003-0002"}),
            ("grant-not-found", {"grant_id": _grant(js, grantee_org=JS_DEPT, grantee_region="js")["id"]}),
            ("grant-not-found", {"grant_id": _grant(js, grantee_region="sh")["id"]}),
            # on the scenario list, but offered by sh only: not for a zj department
            ("matter-not-listed", {"grant_id": _grant(js)["id"], "matter_code": "310000-000-0001"}),
            ("matter-not-listed", {"matter_code": "330000-000-0099"}),  # on no list
        ]
        short = _grant(js, valid_until=_later(2))
        for reason, changes in cases:
            rid_n = f"xr-{uuid.uuid4()}"
            r = _retrieve(zj, rid_n, **changes)
            assert r.status_code == 403 and r.json()["reason"] == reason, r.text
            assert r.json()["type"] == PROBLEM + "retrieval-refused"
            _refused_on_both(js, zj, rid_n, reason)
        expires = datetime.fromisoformat(short["valid_until"].replace("Z", "+00:00"))
        time.sleep(max(0.0, (expires - datetime.now(timezone.utc)).total_seconds() + 1.2))  # the view drops fractions
        rid_e = f"xr-{uuid.uuid4()}"
        r = _retrieve(zj, rid_e, grant_id=short["id"])
        assert r.status_code == 403 and r.json()["reason"] == "grant-expired", r.text
        _refused_on_both(js, zj, rid_e, "grant-expired")

        # Forged and replayed node signatures at js's route directly.
        signer = _signer(zj)
        payload = json.dumps({"schema": "yrd-retrieval/1", "request_id": "xr-direct",
                              "department": {"org_code": ZJ_DEPT, "client_id": "zj-relying"},
                              "retrieval": {"holder_code": HOLDER, "holder_code_type": "111",
                                            "licence_type": "driving_licence",
                                            "matter_code": MATTER, "legal_basis": "某法第一条"}}
                             ).encode()
        headers = node_request.sign_headers(signer, "js", "POST", PATH, payload)
        first = js.post(PATH, content=payload, headers=headers)
        assert first.status_code == 200, first.text
        replay = js.post(PATH, content=payload, headers=headers)
        assert replay.status_code == 403, replay.text
        assert replay.json()["type"] == PROBLEM + "node-request-refused"
        assert replay.json()["reason"] == "replayed"
        token = headers[node_request.HEADER]
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        raw["payload"]["nonce"] = "cd" * 16  # changed after signing
        forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()
        r = js.post(PATH, content=payload, headers={node_request.HEADER: forged,
                                                    "Content-Type": "application/json"})
        assert r.status_code == 403 and r.json()["reason"] == "bad-signature", r.text
        direct = _entries(js, "js-auditor", "xr-direct")
        assert sorted(e["detail"].get("node_reason") for e in direct
                      if e["outcome"] == "denied") == ["bad-signature", "replayed"]

        # The issuing node down → 503 peer-unavailable, audited at zj ("ah" is not running).
        rid_u = f"xr-{uuid.uuid4()}"
        r = _retrieve(zj, rid_u, grant_id=grant["id"], region="ah")
        assert r.status_code == 503 and r.json()["type"] == PROBLEM + "peer-unavailable", r.text
        [entry] = _entries(zj, "zj-auditor", rid_u)
        assert entry["outcome"] == "error" and entry["detail"]["reason"] == "peer-unavailable"
        assert entry["detail"]["remote_region"] == "ah"

        # zj's node certificate withdrawn by zj's operator; js syncs; js refuses zj.
        pki = zj.get("/api/v1/pki").json()
        [node_cert] = [c for c in pki["certificates"] if c["role"] == "node"]
        env = node_environment("zj", zj.keys_dir, zj.data_dir, {"zj": zj.url, "js": js.url},
                               base=child_env())
        done = subprocess.run([sys.executable, "-m", "license_svc", "trust-list", "withdraw",
                               node_cert["sha256"], "--reason", "测试：节点密钥泄露"],
                              env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        js.sync()
        fresh = _grant(js)

        def refused_as_withdrawn():
            rid_w = f"xr-{uuid.uuid4()}"
            r = _retrieve(zj, rid_w, grant_id=fresh["id"])
            return rid_w if r.status_code == 403 and r.json().get("reason") == "withdrawn-node" else None
        rid_w = wait_until(refused_as_withdrawn, timeout=20, interval=1.0, what="withdrawn-node")
        [at_js] = _entries(js, "js-auditor", rid_w)
        assert at_js["detail"]["node_reason"] == "withdrawn-node" and at_js["outcome"] == "denied"
        [at_zj] = _entries(zj, "zj-auditor", rid_w)
        assert at_zj["detail"]["reason"] == "withdrawn-node" and at_zj["outcome"] == "denied"
