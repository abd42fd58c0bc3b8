"""The console's form and messages without a browser: the form description drawn from each
template's schema (web/pages/forms.py), the Chinese messages naming the field with a JSON pointer
(templates.py), the pointer in the API's problem, and a licence's audit trail for its officers
(GET /api/v1/licences/{id}/audit)."""

from __future__ import annotations

import copy

import pytest

from formats.identifier import IdentifierError
from license_svc import templates as tpl
from license_svc.templates import TemplateError
from license_svc.web.pages.forms import describe
from tests.support.issuing import AMR_SH, TRAFFIC_SH, example

ALL = tpl.load_templates()


def controls(folder: str) -> dict[str, dict]:
    return {c["pointer"]: c for s in describe(ALL[folder])["sections"] for c in s["controls"]}


def resolve(request: dict, pointer: str):
    node = request
    for part in pointer.split("/")[1:]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


# -- the form description ----------------------------------------------------------------------

@pytest.mark.parametrize("folder", sorted(ALL))
def test_every_schema_field_has_a_chinese_control(folder):
    """Each property of the schema (each item of an array of objects) is one control, labelled
    with its Chinese title, required as the schema says; the example fills every control."""
    t, got = ALL[folder], controls(folder)
    schema = t.schema
    for name, prop in schema["properties"].items():
        items = prop.get("items", {})
        if prop.get("type") == "array" and items.get("type") == "object":
            for i in range(prop["maxItems"]):
                for sub, sprop in items["properties"].items():
                    c = got[f"/fields/{name}/{i}/{sub}"]
                    assert c["label"] == sprop["title"]
                    assert c["title"] == f"{prop['title']}第 {i + 1} 项 · {sprop['title']}"
                    assert c["required"] == (sub in items["required"])
            continue
        c = got[f"/fields/{name}"]
        assert c["label"] == prop["title"] and c["required"] == (name in schema["required"])
    for i in range(t.meta["holders"]["max"]):
        assert got[f"/holders/{i}/name"]["required"] and got[f"/holders/{i}/code"]["required"]
    assert got["/valid_from"]["input"] == "date"
    for pointer in got:
        if pointer != "/valid_until":
            resolve(t.example, pointer)  # every control points at something a request has


def test_input_kinds_follow_the_schema():
    driving = controls("driving_licence")
    assert driving["/fields/sex"]["input"] == "select" and driving["/fields/sex"]["options"] == ["男", "女"]
    assert driving["/fields/birth_date"]["input"] == "date"
    assert driving["/fields/photo"]["input"] == "image" and not driving["/fields/photo"]["required"]
    assert driving["/fields/file_number"]["pattern"] == "^[0-9]{12}$"
    assert driving["/holders/0/name"]["label"] == "持证人姓名"
    assert driving["/holders/0/code"]["label"] == "持证人公民身份号码"
    assert driving["/valid_until"]["open_end"] and not driving["/valid_until"]["required"]
    assert driving["/valid_until"]["hint"] == "最长 10 年"
    business = controls("business_licence")
    assert business["/fields/business_scope"]["input"] == "textarea"
    assert business["/holders/0/name"]["label"] == "持证主体名称"
    assert business["/holders/0/code"]["uppercase"]
    food = controls("food_business_licence")
    assert food["/fields/business_items"]["input"] == "lines"
    assert food["/fields/business_items"]["min_items"] == 1
    assert food["/fields/business_form"]["input"] == "select"
    assert food["/valid_until"]["required"] and not food["/valid_until"].get("open_end")
    marriage = controls("marriage_certificate")
    assert marriage["/valid_until"]["input"] == "open-end"
    assert marriage["/holders/1/name"]["label"] == "持证人 2 姓名"
    titles = [s["title"] for s in describe(ALL["marriage_certificate"])["sections"]]
    assert titles == ["持证主体 1", "持证主体 2", "有效期", "证照信息", "双方信息第 1 项", "双方信息第 2 项"]


# -- messages that name the field --------------------------------------------------------------

def _refused(folder: str, mutate) -> TemplateError | IdentifierError:
    request = copy.deepcopy(ALL[folder].example)
    mutate(request)
    with pytest.raises((TemplateError, IdentifierError)) as exc:
        ALL[folder].validate_request(request)
    return exc.value


@pytest.mark.parametrize("folder,mutate,zh,pointer", [
    ("business_licence", lambda r: r["fields"].pop("legal_representative"),
     "字段“法定代表人”（fields.legal_representative）为必填项", "/fields/legal_representative"),
    ("business_licence", lambda r: r["fields"].update(address=""),
     "字段“住所”（fields.address）为必填项", "/fields/address"),
    ("driving_licence", lambda r: r["holders"][0].update(name=" "),
     "“持证人姓名”（holders.0.name）为必填项", "/holders/0/name"),
    ("driving_licence", lambda r: r["fields"].update(sex="X"),
     "字段“性别”（fields.sex）只能是以下之一：男、女", "/fields/sex"),
    ("driving_licence", lambda r: r["fields"].update(file_number="12"),
     "字段“档案编号”（fields.file_number）格式不正确", "/fields/file_number"),
    ("business_licence", lambda r: r["fields"].update(established_on="2026-02-30"),
     "字段“成立日期”（fields.established_on）必须为 YYYY-MM-DD 格式的有效日期", "/fields/established_on"),
    ("business_licence", lambda r: r["fields"].update(address="上海"),
     "字段“住所”（fields.address）至少 4 个字符", "/fields/address"),
    ("business_licence", lambda r: r["fields"].update(colour="red"),
     "字段“colour”（fields.colour）不是营业执照的字段", "/fields/colour"),
    ("food_business_licence", lambda r: r["fields"].update(business_items=["热食类食品制售"] * 2),
     "字段“经营项目”（fields.business_items）不能有重复项", "/fields/business_items"),
    ("food_business_licence", lambda r: r.update(valid_until=None),
     "“有效期截止日期”（valid_until）为必填项", "/valid_until"),
    ("business_licence", lambda r: r.update(valid_from="2026/01/15"),
     "“有效期起始日期”（valid_from）必须为 YYYY-MM-DD 格式的日期", "/valid_from"),
    ("marriage_certificate", lambda r: r["fields"]["parties"][1].pop("birth_date"),
     "字段“双方信息第 2 项 · 出生日期”（fields.parties.1.birth_date）为必填项",
     "/fields/parties/1/birth_date"),
    ("marriage_certificate", lambda r: r["fields"]["parties"][1].update(sex="男"),
     "与第 2 个持证主体的公民身份号码不一致", "/fields/parties/1/sex"),
    ("business_licence", lambda r: r["holders"][0].update(code="91310000MA00000013"),
     "“持证主体统一社会信用代码”（holders.0.code）：统一社会信用代码校验码错误", "/holders/0/code"),
])
def test_messages_name_the_field_in_chinese_and_english(folder, mutate, zh, pointer):
    err = _refused(folder, mutate)
    assert zh in err.message_zh, err.message_zh
    assert pointer.lstrip("/").replace("/", ".") in err.message_en, err.message_en
    assert err.pointer == pointer


def test_the_problem_carries_the_pointer(client, make_api_client):
    _, amr_h = make_api_client(["issuer"], org_code=AMR_SH, licence_types=["business_licence"])
    body = example("business_licence")
    del body["fields"]["legal_representative"]
    resp = client.post("/api/v1/licences", json=body, headers=amr_h)
    assert resp.status_code == 422 and resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert problem["type"].endswith(":template-invalid")
    assert problem["pointer"] == "/fields/legal_representative"
    assert problem["title_zh"] == "字段“法定代表人”（fields.legal_representative）为必填项"
    body = example("business_licence")
    body["holders"][0]["code"] = "91310000MA00000013"
    problem = client.post("/api/v1/licences", json=body, headers=amr_h).json()
    assert problem["type"].endswith(":identifier-invalid") and problem["pointer"] == "/holders/0/code"
    # the templates route hands the console the form with each type
    form = client.get("/api/v1/issuers/me/templates", headers=amr_h).json()["templates"][0]["form"]
    assert form["type"] == "business_licence" and form["holder_code_type"] == "001"


# -- a licence's audit trail -------------------------------------------------------------------

def test_officers_read_the_audit_trail_of_their_licences(client, make_api_client):
    _, amr_h = make_api_client(["issuer"], org_code=AMR_SH, licence_types=["business_licence"])
    ident = client.post("/api/v1/licences", json=example("business_licence"), headers=amr_h).json()["identifier"]
    assert client.post(f"/api/v1/licences/{ident}/suspend", json={"reason": "年报核查"},
                       headers=amr_h).status_code == 200
    new = client.post(f"/api/v1/licences/{ident}/amend", headers=amr_h, json={
        "changes": {"fields": {"address": "上海市黄浦区中山东一路1号"}}, "reason": "住所变更"}).json()["identifier"]

    trail = client.get(f"/api/v1/licences/{new}/audit", headers=amr_h)
    assert trail.status_code == 200 and trail.headers["cache-control"] == "no-store"
    body = trail.json()
    assert body["versions"] == [ident, new]
    actions = [(e["action"], e["version"], e["reason"]) for e in body["entries"]]
    assert actions[0][:2] == ("licence.amend", 2)
    assert ("licence.suspended", 1, "年报核查") in actions and ("licence.issue", 1, None) in actions
    assert all(e["actor"]["org_code"] == AMR_SH for e in body["entries"])
    assert all("holder_ref" not in e for e in body["entries"])
    # reading the trail is itself in the trail
    again = client.get(f"/api/v1/licences/{ident}/audit", headers=amr_h).json()
    assert again["entries"][0]["action"] == "licence.read.audit"

    # another organisation's officer, a regional auditor, a relying department
    _, traffic_h = make_api_client(["issuer"], org_code=TRAFFIC_SH, licence_types=["driving_licence"])
    refused = client.get(f"/api/v1/licences/{new}/audit", headers=traffic_h)
    assert refused.status_code == 403 and refused.json()["type"].endswith(":issuer-authority")
    _, auditor_h = make_api_client(["auditor"], org_code="12310000MB0000100U")
    assert client.get(f"/api/v1/licences/{new}/audit", headers=auditor_h).status_code == 200
    _, relying_h = make_api_client(["relying"], org_code="11310000MB0000300A")
    assert client.get(f"/api/v1/licences/{new}/audit", headers=relying_h).status_code == 403
    denied = client.get(f"/api/v1/licences/{new}/audit", headers=amr_h).json()["entries"]
    assert any(e["action"] == "licence.read.audit" and e["outcome"] == "denied" for e in denied)
