"""Disputes between two real nodes (sh, js) on loopback, each on its own exported key store
and database: a dispute filed at sh about a js licence reaches js, is corrected there by
amendment and the filer at sh sees `corrected` with the new version's identifier; another is
rejected with a reason; with `dispute_due_working_days=0` an open dispute is on the overdue
list at both nodes (the rule itself is unit tested with an injected clock in test_disputes.py)."""

import pytest

from tests.support.issuing import example
from tests.support.nodes import running_nodes, wait_until

pytestmark = pytest.mark.slow


def test_sh_disputes_a_js_licence(tmp_path, monkeypatch):
    monkeypatch.setenv("LICENSE_SVC_DISPUTE_DUE_WORKING_DAYS", "0")
    with running_nodes(["sh", "js"], tmp_path) as nodes:
        sh, js = nodes["sh"], nodes["js"]
        for node in (sh, js):   # each node's first sync ran before the other was up
            node.sync()
        wait_until(lambda: sh.usable("js") and js.usable("sh"), timeout=30, what="mutual lists")
        r = js.post("/api/v1/licences", json=example("business_licence", 1),  # not the demo one
                    headers=js.auth("js-issuer-amr"))
        assert r.status_code == 201, r.text
        licence = r.json()["identifier"]
        dept, issuer = sh.auth("sh-relying"), js.auth("js-issuer-amr")

        def file(text):
            r = sh.post("/api/v1/disputes", headers=dept, json={
                "licence_id": licence, "category": "data-wrong", "text": text})
            assert r.status_code == 201, r.text
            assert r.json()["state"] == "open", r.json()   # delivered to js at once
            return r.json()["id"]

        first, second = file("住所有误"), file("名称有误")
        open_at_js = js.get("/api/v1/disputes?state=open", headers=issuer).json()["disputes"]
        assert {d["id"] for d in open_at_js} == {first, second}
        overdue = js.get("/api/v1/disputes?state=overdue", headers=issuer).json()["disputes"]
        assert {d["id"] for d in overdue} == {first, second}
        assert sh.get("/api/v1/disputes?state=overdue", headers=dept).json()["disputes"]

        r = js.post(f"/api/v1/disputes/{first}/resolve", headers=issuer, json={
            "outcome": "corrected",
            "amend": {"changes": {"fields": {"address": "江苏省南京市玄武区1号"}}, "reason": "异议更正"}})
        assert r.status_code == 200, r.text
        new = r.json()["new_identifier"]
        assert r.json()["outcome_delivered"] and new != licence
        r = js.post(f"/api/v1/disputes/{second}/resolve", headers=issuer,
                    json={"outcome": "rejected", "reason": "经核查名称无误"})
        assert r.status_code == 200 and r.json()["outcome_delivered"], r.text

        a = sh.get(f"/api/v1/disputes/{first}", headers=dept).json()
        assert (a["state"], a["outcome"], a["new_identifier"]) == ("resolved", "corrected", new)
        b = sh.get(f"/api/v1/disputes/{second}", headers=dept).json()
        assert (b["outcome"], b["reason"]) == ("rejected", "经核查名称无误")
        assert js.get("/api/v1/disputes?state=overdue", headers=issuer).json()["disputes"] == []

        def actions(node, auditor):
            r = node.get("/api/v1/audit/search?limit=200", headers=node.auth(auditor))
            return sorted(e["entry"]["action"] for e in r.json()["entries"]
                          if e["entry"]["action"].startswith("dispute."))
        assert actions(sh, "sh-admin") == sorted(["dispute.file"] * 2 + ["dispute.deliver"] * 2
                                                 + ["dispute.outcome"] * 2)
        assert actions(js, "js-admin") == sorted(["dispute.receive"] * 2 + ["dispute.resolve"] * 2
                                                 + ["dispute.outcome_send"] * 2)
