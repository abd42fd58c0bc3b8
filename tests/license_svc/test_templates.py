"""Template folders: every folder loads, its example validates, the dev PKI can issue it;
broken folders and bad requests are refused with bilingual messages; a new folder is a new type."""

import json
import shutil
from datetime import date

import pytest

from license_svc import identifiers as ids
from license_svc import templates as tpl
from license_svc.identifiers import IdentifierError
from license_svc.templates import TemplateError

MANIFEST = json.loads((tpl.TEMPLATES_DIR.parent.parent / "keys_dev" / "manifest.json").read_text("utf-8"))
ALL = tpl.load_templates()


def test_at_least_four_types_including_persons_organisations_photo_and_two_holders():
    assert len(ALL) >= 4
    kinds = {t.meta["holders"]["kind"] for t in ALL.values()}
    assert kinds == {"natural_person", "legal_person"}
    assert any(t.meta["holders"]["max"] >= 2 for t in ALL.values())
    assert any("photo" in t.layout for t in ALL.values())
    assert len({t.type_code for t in ALL.values()}) == len(ALL)


@pytest.mark.parametrize("folder", sorted(ALL))
def test_example_validates_and_makes_a_record(folder):
    t = ALL[folder]
    assert t.validate_request(t.example) == []
    ids.check_uscc(t.type_code[:18])
    number = t.licence_number(t.example, region="sh", issued=date(2026, 1, 15))
    assert ids.licence_number_regex(t.number_pattern).match(number)
    ident = ids.make_identifier(t.type_code, t.example["issuer_code"])
    rec = t.make_record(t.example, identifier=str(ident), number=number, issuer_name="机关",
                        region="sh", issued_on=date(2026, 1, 15))
    assert rec["type_code"] == t.type_code and rec["holders"][0]["name"]
    json.dumps(rec, allow_nan=False)  # JSON only: the record is signed as canonical JSON
    assert tpl.by_type_code(t.type_code) is t
    assert tpl.get_template(folder) is t


@pytest.mark.parametrize("folder", sorted(ALL))
def test_example_issuer_exists_in_the_dev_pki(folder):
    t = ALL[folder]
    orgs = {o["code"]: o for o in MANIFEST["organisations"]}
    if not any(o["kind"] in t.issuer_kinds for o in MANIFEST["organisations"]):
        pytest.skip(f"dev PKI has no {t.issuer_kinds} organisation yet (requested from the PKI owner)")
    org = orgs.get(t.example["issuer_code"])
    assert org, f"{folder}: example issuer {t.example['issuer_code']} not in keys_dev"
    assert org["kind"] in t.issuer_kinds and folder in org["licence_types"]


def test_unknown_type_is_a_bilingual_error():
    with pytest.raises(TemplateError) as exc:
        tpl.get_template("no_such_type")
    assert "未知的证照类型" in exc.value.message_zh and "business_licence" in exc.value.message_en


def _req(folder, **changes):
    req = json.loads(json.dumps(ALL[folder].example))
    for k, v in changes.items():
        req[k] = v
    return req


BAD_REQUESTS = [
    ("business_licence", {"holders": []}, "持证主体"),
    ("business_licence", {"holders": [{"name": "甲公司", "code": "91310000MA00000013",
                                       "code_type": "001"}]}, "校验码"),
    ("business_licence", {"holders": [{"name": "张三", "code": "310101199003071230",
                                       "code_type": "111"}]}, "代码类型"),
    ("business_licence", {"issuer_code": "not-a-code"}, "统一社会信用代码"),
    ("business_licence", {"valid_from": "2026/01/15"}, "YYYY-MM-DD"),
    ("business_licence", {"valid_from": "20260115"}, "YYYY-MM-DD"),
    ("business_licence", {"surprise": 1}, "未知字段"),
    ("business_licence", {"number": "X1"}, "存量"),
    ("business_licence", {"type": "driving_licence"}, "不符"),
    ("food_business_licence", {"valid_until": None}, "截止日期"),
    ("food_business_licence", {"valid_until": "2031-01-15"}, "最长 5 年"),
    ("food_business_licence", {"valid_until": "2025-01-01"}, "早于"),
    ("driving_licence", {"holders": [{"name": "张三", "code": "310101199003071231",
                                      "code_type": "111"}]}, "校验码"),
    ("marriage_certificate", {"valid_until": "2030-01-01"}, "长期"),
    ("marriage_certificate", {"holders": [{"name": "张三", "code": "310101199003071230",
                                           "code_type": "111"}] * 2}, "两次"),
]


@pytest.mark.parametrize("folder,changes,zh", BAD_REQUESTS)
def test_bad_requests(folder, changes, zh):
    with pytest.raises((TemplateError, IdentifierError)) as exc:
        ALL[folder].validate_request(_req(folder, **changes))
    assert zh in exc.value.message_zh, exc.value.message_zh
    assert exc.value.message_en


@pytest.mark.parametrize("fields,zh", [
    ({"sex": "X"}, "性别"),
    ({"file_number": "12"}, "档案编号"),
    ({"vehicle_class": "Z9"}, "准驾车型"),
    ({"extra": "x"}, "fields"),
])
def test_bad_fields_name_the_field_in_chinese(fields, zh):
    req = _req("driving_licence")
    req["fields"].update(fields)
    with pytest.raises(TemplateError) as exc:
        ALL["driving_licence"].validate_request(req)
    assert zh in exc.value.message_zh


def test_fields_must_agree_with_the_identity_number():
    req = _req("driving_licence")
    req["fields"]["birth_date"] = "1990-03-08"
    with pytest.raises(TemplateError) as exc:
        ALL["driving_licence"].validate_request(req)
    assert "出生日期" in exc.value.message_zh and "公民身份号码" in exc.value.message_zh
    req = _req("marriage_certificate")
    req["fields"]["parties"][1]["sex"] = "男"  # 310104199303221041: 17th digit 4, female
    with pytest.raises(TemplateError) as exc:
        ALL["marriage_certificate"].validate_request(req)
    assert "第 2 个持证主体" in exc.value.message_zh


def test_missing_field_and_nested_field_errors():
    req = _req("business_licence")
    del req["fields"]["address"]
    with pytest.raises(TemplateError):
        ALL["business_licence"].validate_request(req)
    req = _req("marriage_certificate")
    req["fields"]["parties"][1]["sex"] = "?"
    with pytest.raises(TemplateError) as exc:
        ALL["marriage_certificate"].validate_request(req)
    assert "性别" in exc.value.message_zh
    for junk in (None, [], "x", 1):
        with pytest.raises(TemplateError):
            ALL["business_licence"].validate_request(junk)


def test_legacy_import_warns_on_pilot_area_uscc_and_keeps_its_number():
    req = _req("business_licence", holders=[{"name": "福州某公司", "code": "91350100M0001TGQXM",
                                             "code_type": "001"}], number="350100000012345")
    with pytest.raises(IdentifierError):
        ALL["business_licence"].validate_request(req)
    warnings = ALL["business_licence"].validate_request(req, legacy=True)
    assert len(warnings) == 1 and "legacy" in warnings[0]
    assert ALL["business_licence"].licence_number(req, region="sh", issued=date(2026, 1, 1)) \
        == "350100000012345"


def _copy(tmp_path, folder="business_licence", new="new_type"):
    dst = tmp_path / new
    shutil.copytree(tpl.TEMPLATES_DIR / folder, dst)
    return dst


def _edit(path, fn):
    data = json.loads(path.read_text("utf-8"))
    fn(data)
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")


def test_adding_a_folder_adds_a_type(tmp_path):
    d = _copy(tmp_path)
    _edit(d / "template.json", lambda m: m.update(type_code="11100000MB0000001T099",
                                                  name="营业执照（分支机构）"))
    _edit(d / "example.json", lambda e: e.update(type="new_type"))
    found = tpl.load_templates(tmp_path)
    assert list(found) == ["new_type"] and found["new_type"].name == "营业执照（分支机构）"
    assert found["new_type"].validate_request(found["new_type"].example) == []


@pytest.mark.parametrize("file,change,zh", [
    ("template.json", lambda m: m.update(type_code="11100000MB0000001X001"), "校验码"),
    ("template.json", lambda m: m.update(type_code="123"), "类型代码"),
    ("template.json", lambda m: m.update(schema="v0"), "版本"),
    ("template.json", lambda m: m["holders"].update(code_type="123"), "持证主体"),
    ("template.json", lambda m: m.update(id_card_fields={"name": "fields.x"}), "id_card_fields"),
    ("template.json", lambda m: m.pop("unique"), "unique"),
    ("template.json", lambda m: m.update(unique=[]), "unique"),
    ("template.json", lambda m: m.update(unique=["holders", "holders"]), "unique"),
    ("template.json", lambda m: m.update(unique=["fields.nope"]), "unique"),
    ("template.json", lambda m: m.update(unique=["number"]), "随机序号"),
    ("schema.json", lambda s: s.update(type="nonsense"), "JSON Schema"),
    ("layout.json", lambda l: l["fields"].append({"label": "X", "value": "fields.nope", "x": 1, "y": 1}), "schema.json"),
    ("layout.json", lambda l: l["fields"].append({"label": "X", "value": "secret.key", "x": 1, "y": 1}), "未知字段"),
    ("layout.json", lambda l: l["qr"].update(x=290), "超出页面"),
    ("layout.json", lambda l: l["qr"].update(size=15), "25 毫米"),
    ("layout.json", lambda l: l.pop("seal"), "不完整"),
    ("qr.json", lambda q: q.update(claims=["id"]), "必须包含"),
    ("qr.json", lambda q: q.update(mask={"h": "reveal"}), "脱敏"),
])
def test_broken_folders_fail_at_load(tmp_path, file, change, zh):
    d = _copy(tmp_path)
    _edit(d / file, change)
    with pytest.raises(TemplateError) as exc:
        tpl.load_template(d)
    assert zh in exc.value.message_zh, exc.value.message_zh


def test_identity_numbers_must_be_masked_in_the_printed_qr(tmp_path):
    d = _copy(tmp_path, "driving_licence", "dl2")
    _edit(d / "qr.json", lambda q: q.update(mask={"h": "name"}))
    with pytest.raises(TemplateError) as exc:
        tpl.load_template(d)
    assert "脱敏" in exc.value.message_zh


def test_missing_file_and_bad_json(tmp_path):
    d = _copy(tmp_path)
    (d / "qr.json").unlink()
    with pytest.raises(TemplateError):
        tpl.load_template(d)
    d = _copy(tmp_path, new="other")
    (d / "layout.json").write_text("{not json", "utf-8")
    with pytest.raises(TemplateError):
        tpl.load_template(d)
    bad = _copy(tmp_path, new="Bad-Name")
    with pytest.raises(TemplateError):
        tpl.load_template(bad)
