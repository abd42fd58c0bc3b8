"""Disputes (license_svc.disputes): the working-day due rule with an injected clock, filing,
delivery between two in-process nodes (sh files about a js licence), resolution by the issuing
organisation only (corrected by amendment, rejected with a reason), the outcome back at the
filing node, retries when the peer is down, forged and replayed node requests refused and
audited, the overdue list, evidence checks, and the console's disputes section."""

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from license_svc.audit.models import AuditEntryRow
from license_svc.auth.clients import upsert_client
from license_svc.disputes import service
from license_svc.disputes.due import CST, due_at, is_overdue
from license_svc.disputes.errors import DisputeError
from license_svc.federation import node_request
from license_svc.web import create_app
from tests.support.grants import PERSON, issue_licence
from tests.support.issuing import AMR_SH, TRAFFIC_SH

JS_AMR = "11320000MB0000010E"
SH_DEPT = "11310000MB00005001"
PDF = b"%PDF-1.4\n% evidence\n"


# -- the due rule ------------------------------------------------------------------------------

def test_due_counts_working_days_mon_to_fri_and_ends_the_day_in_cst():
    friday = datetime(2026, 6, 5, 10, 0, tzinfo=CST)          # Friday
    assert friday.weekday() == 4
    due = due_at(friday, 5)                                    # Mon..Fri of the next week
    assert due == datetime(2026, 6, 13, 0, 0, tzinfo=CST)      # the end of Friday 12 June
    saturday = datetime(2026, 6, 6, 23, 0, tzinfo=CST)
    assert due_at(saturday, 1) == datetime(2026, 6, 9, 0, 0, tzinfo=CST)   # end of Monday
    late_utc = datetime(2026, 6, 5, 17, 0, tzinfo=timezone.utc)  # already Saturday in CST
    assert due_at(late_utc, 1) == datetime(2026, 6, 9, 0, 0, tzinfo=CST)
    assert due_at(friday, 0) == friday


def test_overdue_with_an_injected_clock(clock):
    """Filed Monday 1 June 2026 16:00 CST: due at the end of Monday 8 June (CST)."""
    filed = clock()
    assert filed.astimezone(CST).weekday() == 0
    due = due_at(filed, 5)
    assert due == datetime(2026, 6, 9, 0, 0, tzinfo=CST)
    clock.set(due - timedelta(seconds=1))
    assert not is_overdue("open", due, clock())
    clock.set(due)
    assert is_overdue("open", due, clock())
    assert is_overdue("pending-delivery", due, clock())
    assert not is_overdue("resolved", due, clock())
    assert not is_overdue("refused", due, clock())


def test_the_setting():
    from license_svc.config import ConfigError, Settings, load_settings

    assert Settings().dispute_due_working_days == 5
    assert load_settings({"LICENSE_SVC_DISPUTE_DUE_WORKING_DAYS": "2"}).dispute_due_working_days == 2
    with pytest.raises(ConfigError):
        Settings(dispute_due_working_days=-1)


# -- two in-process nodes ----------------------------------------------------------------------

class Net:
    """sh and js apps; `node_request.call` goes to the other app's TestClient, signed as the
    real one signs (`sign_headers`), so verification on the called side is the real one."""

    def __init__(self, nodes, monkeypatch):
        self.nodes, self.down = nodes, set()

        def call(ctx, to_region, path, body_obj, timeout=10.0):
            if to_region in self.down or to_region not in self.nodes:
                raise node_request.PeerUnavailable(f"{to_region} down", f"{to_region} 不可用")
            body = json.dumps(body_obj, ensure_ascii=False).encode()
            headers = node_request.sign_headers(ctx, to_region, "POST", path, body)
            r = self.nodes[to_region]["http"].post(path, content=body, headers=headers)
            return r.status_code, r.json()
        monkeypatch.setattr(node_request, "call", call)


def _client(ctx, roles, org, **kw):
    with ctx.unit_of_work() as s:
        _, key = upsert_client(s, client_id=kw.pop("client_id", f"t-{ctx.region}-{'-'.join(roles)}-{org[-4:]}"),
                               name="测试", region=ctx.region, org_code=org, roles=roles, **kw)
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def net(ctx, ctx_factory, settings_factory, monkeypatch):
    js = ctx_factory(settings_factory("js"))
    nodes = {}
    for c in (ctx, js):
        app = create_app(ctx=c)
        app.state.audit_checkpoint_interval = 0
        nodes[c.region] = {"ctx": c, "http": TestClient(app).__enter__()}
    n = Net(nodes, monkeypatch)
    n.sh_dept = _client(ctx, ["relying"], SH_DEPT)
    n.js_issuer = _client(js, ["issuer"], JS_AMR, licence_types=["business_licence", "food_business_licence"])
    n.js_other = _client(js, ["issuer"], "11320000MB0000020F", licence_types=["driving_licence"],
                         client_id="t-js-traffic")
    n.js_admin = _client(js, ["admin"], JS_AMR, client_id="t-js-amr-admin")
    n.js_regional = _client(js, ["admin"], "11320000MB0000900X", client_id="t-js-operator")
    n.licence = issue_licence(js, "business_licence", JS_AMR, ["business_licence"])
    yield n
    for node in nodes.values():
        node["http"].__exit__(None, None, None)


def _sh(net):
    return net.nodes["sh"]["http"]


def _js(net):
    return net.nodes["js"]["http"]


def _file(net, **changes):
    body = {"licence_id": net.licence, "category": "data-wrong", "text": "住所与原件不符",
            "evidence": {"content_type": "application/pdf",
                         "data_base64": base64.b64encode(PDF).decode()}}
    body.update(changes)
    return _sh(net).post("/api/v1/disputes", json=body, headers=net.sh_dept)


def _actions(ctx):
    from license_svc import audit

    with ctx.unit_of_work() as s:
        audit.sequence_pending(s)
        return [json.loads(r.leaf) for r in s.scalars(select(AuditEntryRow).order_by(AuditEntryRow.idx))]


def test_filed_at_sh_corrected_by_amendment_at_js_and_the_filer_sees_it(net):
    r = _file(net)
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["state"] == "open" and d["issuing_region"] == "js" and d["evidence"]["size"] == len(PDF)
    # js: the issuing organisation sees it open, with the evidence
    listed = _js(net).get("/api/v1/disputes?state=open", headers=net.js_issuer).json()["disputes"]
    assert [x["id"] for x in listed] == [d["id"]] and listed[0]["resolvable"]
    ev = _js(net).get(f"/api/v1/disputes/{d['id']}/evidence", headers=net.js_issuer)
    assert ev.content == PDF and ev.headers["content-type"] == "application/pdf"
    # nobody else of js resolves it; another organisation does not even see it
    assert _js(net).get("/api/v1/disputes", headers=net.js_other).json()["disputes"] == []
    assert _js(net).post(f"/api/v1/disputes/{d['id']}/resolve", headers=net.js_other,
                         json={"outcome": "rejected", "reason": "x"}).status_code == 404
    assert _js(net).post(f"/api/v1/disputes/{d['id']}/resolve", headers=net.js_regional,
                         json={"outcome": "rejected", "reason": "x"}).status_code == 403
    # a new identifier that is not a later version of this licence is refused
    bad = _js(net).post(f"/api/v1/disputes/{d['id']}/resolve", headers=net.js_issuer,
                        json={"outcome": "corrected", "new_identifier": net.licence})
    assert bad.status_code == 422 and bad.json()["title_zh"]
    res = _js(net).post(f"/api/v1/disputes/{d['id']}/resolve", headers=net.js_issuer,
                        json={"outcome": "corrected", "amend": {
                            "changes": {"fields": {"address": "江苏省南京市玄武区1号"}},
                            "reason": "异议更正"}})
    assert res.status_code == 200, res.text
    new = res.json()["new_identifier"]
    assert new != net.licence and new.rsplit(".", 2)[0] == net.licence.rsplit(".", 2)[0]
    assert res.json()["outcome_delivered"] is True
    seen = _sh(net).get(f"/api/v1/disputes/{d['id']}", headers=net.sh_dept).json()
    assert (seen["state"], seen["outcome"], seen["new_identifier"]) == ("resolved", "corrected", new)
    again = _js(net).post(f"/api/v1/disputes/{d['id']}/resolve", headers=net.js_issuer,
                          json={"outcome": "rejected", "reason": "x"})
    assert again.status_code == 409
    sh_actions = [e["action"] for e in _actions(net.nodes["sh"]["ctx"]) if e["action"].startswith("dispute.")]
    js_actions = [e["action"] for e in _actions(net.nodes["js"]["ctx"]) if e["action"].startswith("dispute.")]
    assert sh_actions == ["dispute.file", "dispute.deliver", "dispute.outcome"]
    assert js_actions == ["dispute.receive", "dispute.resolve", "dispute.outcome_send"]
    assert all(e["detail"]["dispute_id"] == d["id"]
               for e in _actions(net.nodes["js"]["ctx"]) if e["action"].startswith("dispute."))


def test_rejected_with_a_reason_by_the_organisations_own_admin(net):
    d = _file(net, category="status-wrong", evidence=None).json()
    assert _js(net).post(f"/api/v1/disputes/{d['id']}/resolve", headers=net.js_admin,
                         json={"outcome": "rejected"}).status_code == 422   # reason required
    res = _js(net).post(f"/api/v1/disputes/{d['id']}/resolve", headers=net.js_admin,
                        json={"outcome": "rejected", "reason": "经核查登记信息无误"})
    assert res.status_code == 200, res.text
    seen = _sh(net).get(f"/api/v1/disputes/{d['id']}", headers=net.sh_dept).json()
    assert (seen["outcome"], seen["reason"], seen["new_identifier"]) == ("rejected", "经核查登记信息无误", None)
    assert [x["id"] for x in _sh(net).get("/api/v1/disputes?state=resolved",
                                          headers=net.sh_dept).json()["disputes"]] == [d["id"]]


def test_unreachable_issuing_node_keeps_it_pending_and_the_retry_delivers(net):
    net.down.add("js")
    d = _file(net).json()
    assert d["state"] == "pending-delivery" and "down" in d["delivery_error"]
    assert _sh(net).get("/api/v1/disputes?state=open", headers=net.sh_dept).json()["disputes"]
    net.down.clear()
    assert service.retry_deliveries(net.nodes["sh"]["ctx"])["delivered"] == 1
    assert _sh(net).get(f"/api/v1/disputes/{d['id']}", headers=net.sh_dept).json()["state"] == "open"
    # the outcome waits for sh in the same way
    net.down.add("sh")
    res = _js(net).post(f"/api/v1/disputes/{d['id']}/resolve", headers=net.js_issuer,
                        json={"outcome": "rejected", "reason": "无误"}).json()
    assert res["outcome_delivered"] is False
    net.down.clear()
    assert service.retry_deliveries(net.nodes["js"]["ctx"])["sent"] == 1
    assert _sh(net).get(f"/api/v1/disputes/{d['id']}", headers=net.sh_dept).json()["outcome"] == "rejected"


def test_a_licence_the_issuing_node_does_not_have_is_refused_there(net):
    from formats.identifier import parse_identifier

    other = str(parse_identifier(net.licence).with_version(7))
    d = _file(net, licence_id=other).json()
    assert d["state"] == "refused" and "dispute-not-found" in d["delivery_error"]


def test_forged_and_replayed_node_requests_are_refused_and_audited(net):
    js = net.nodes["js"]
    sh_ctx = net.nodes["sh"]["ctx"]
    d = _file(net).json()
    body = json.dumps({"outcome": "rejected", "reason": "伪造"}).encode()
    path = service.outcome_path(d["id"])
    assert _sh(net).post(path, content=body).json()["reason"] == "missing"
    # signed by js for a different body
    headers = node_request.sign_headers(js["ctx"], "sh", "POST", path, b"{}")
    r = _sh(net).post(path, content=body, headers=headers)
    assert (r.status_code, r.json()["reason"]) == (403, "body-mismatch")
    headers = node_request.sign_headers(js["ctx"], "sh", "POST", path, body)
    assert _sh(net).post(path, content=body, headers=headers).status_code == 200
    r = _sh(net).post(path, content=body, headers=headers)                 # replay
    assert (r.status_code, r.json()["reason"]) == (403, "replayed")
    # sh signing a "from js" outcome for itself: wrong region / not js's node
    headers = node_request.sign_headers(sh_ctx, "sh", "POST", path, body)
    r = _sh(net).post(path, content=body, headers=headers)
    assert r.status_code == 403   # the caller is sh, not the issuing node js
    refused = [e for e in _actions(sh_ctx) if e["action"] == "dispute.node_refused"]
    assert [e["detail"]["reason"] for e in refused] == ["missing", "body-mismatch", "replayed"]
    assert all(e["outcome"] == "denied" for e in refused)


def test_overdue_list_follows_the_clock(net, clock):
    d = _file(net).json()
    js = _js(net)
    assert js.get("/api/v1/disputes?state=overdue", headers=net.js_issuer).json()["disputes"] == []
    clock.advance(days=10)
    over = js.get("/api/v1/disputes?state=overdue", headers=net.js_issuer).json()["disputes"]
    assert [x["id"] for x in over] == [d["id"]] and over[0]["overdue"]
    assert _sh(net).get("/api/v1/disputes?state=overdue", headers=net.sh_dept).json()["disputes"]


def test_filing_checks(net):
    assert _file(net, category="x").status_code == 422
    assert _file(net, evidence={"content_type": "image/png",
                                "data_base64": base64.b64encode(PDF).decode()}).status_code == 422
    assert _file(net, evidence={"content_type": "text/html",
                                "data_base64": base64.b64encode(b"<p>").decode()}).status_code == 422
    too_big = base64.b64encode(b"%PDF-" + bytes(service.MAX_EVIDENCE)).decode()
    assert _file(net, evidence={"content_type": "application/pdf",
                                "data_base64": too_big}).status_code == 422
    assert _file(net, text=f"持证人身份证 {PERSON} 有误").status_code == 422
    assert _file(net, licence_id="not-an-id").status_code == 422
    issuer = _client(net.nodes["sh"]["ctx"], ["issuer"], AMR_SH, licence_types=["business_licence"])
    assert _file(net).status_code == 201
    assert _sh(net).post("/api/v1/disputes", json={}, headers=issuer).status_code == 403


# -- one node: a dispute about the node's own licence ------------------------------------------

def test_local_dispute_skips_the_hop(ctx, make_api_client):
    licence = issue_licence(ctx, "driving_licence", TRAFFIC_SH, ["driving_licence"])
    dept, _ = make_api_client(["relying"], org_code=SH_DEPT)
    issuer, _ = make_api_client(["issuer"], org_code=TRAFFIC_SH, licence_types=["driving_licence"])
    with ctx.unit_of_work() as s:
        d = service.file_dispute(ctx, s, dept, {"licence_id": licence, "category": "other",
                                                "text": "准驾车型有误"})
    assert d.state == "open" and d.issuing_region == "sh"
    with ctx.unit_of_work() as s:
        assert [x.id for x in service.list_disputes(ctx, s, issuer, "open")] == [d.id]
        assert [x.id for x in service.list_disputes(ctx, s, dept, "open")] == [d.id]
        done = service.resolve(ctx, s, issuer, d.id, {"outcome": "rejected", "reason": "无误"})
        assert done.outcome_sent_at is not None   # nothing to send: the filer is here
    with ctx.unit_of_work() as s:
        assert service.get_dispute(ctx, s, dept, d.id).outcome == "rejected"
        with pytest.raises(DisputeError):
            service.list_disputes(ctx, s, dept, "nonsense")


def test_console_has_a_disputes_section(http):
    html = http.get("/console").text
    assert 'id="disputes-card"' in html and "异议处理" in html and 'id="disputes"' in html
    assert "disputes" in http.get("/pages/static/console.js").text
