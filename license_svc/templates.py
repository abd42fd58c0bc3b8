"""Licence types as data: one folder per type, discovered at start-up.

The built-in types ship inside the package (`license_svc/licence_types/`, so an installed wheel
has them); the `templates_dirs` setting (LICENSE_SVC_TEMPLATES_DIR, folders separated by
`os.pathsep`) adds folders searched after it — a folder there with a new name adds a type, one
with a built-in name replaces that type.

Adding a licence type is adding a folder with five files, no code (docs/formats.md "Templates"):

- ``template.json`` what the type is: GB/T 36904 type code, name, holder code type and count,
  whether the Delta regions recognise it, validity rules, licence-number pattern, which kind of
  issuing organisation (``amr``, ``traffic``, …) may issue it, and what makes two of its
  licences the same licence (``unique``: at most one of them in force at a time);
- ``schema.json`` JSON Schema of the type's own fields;
- ``layout.json`` where things go on the A4 page (mm), the QR and seal boxes;
- ``qr.json`` which claims go into the printed EL1 code and how they are masked;
- ``example.json`` a complete issuance request, validated by the tests like real input.

Each folder is checked when loaded, so a broken template fails at start-up, not at the first
issuance.  Request checks raise `TemplateError` with a Chinese and an English message naming the
offending field — by its Chinese title (`Template.title_of`: the schema's `title`s, the request's
own names) and its path, 「“法定代表人”（fields.legal_representative）为必填项」 — and a JSON
pointer to it (`pointer`, problem+json member), so the console puts the message by the input.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from license_svc import identifiers as ids
from license_svc.identifiers import IdentifierError
from formats.errors import ServiceError
from formats.qr_claims import LICENCE_CLAIM_KEYS

TEMPLATES_DIR = Path(__file__).resolve().parent / "licence_types"
# The folders searched when no directory is named: set once at start-up from the settings
# (`use_template_dirs`, called by AppContext) rather than passed through the fifty places that
# look a type up — like the key store, it is fixed for the life of the process.
_search_path: tuple[Path, ...] = (TEMPLATES_DIR,)
TEMPLATE_SCHEMA = "yrd-licence-template/1"
FILES = ("template.json", "schema.json", "layout.json", "qr.json", "example.json")
REQUEST_KEYS = {"type", "issuer_code", "holders", "valid_from", "valid_until", "fields", "number"}
RECORD_PATH_ROOTS = {"identifier", "type_code", "type_name", "number", "holders", "issuer",
                     "issued_on", "valid_from", "valid_until", "region", "version", "fields"}
# `unique` parts: every holder's code (order-free), the licence number, or one of the type's fields.
UNIQUE_PARTS = ("holders", "number")
_FOLDER = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_MASK = re.compile(r"^(none|name|keep:\d{1,2}:\d{1,2})$")
MAX_HOLDER_NAME = 100


class TemplateError(ServiceError):
    """A template folder is broken, or a request does not fit its template (`pointer`: the RFC
    6901 pointer into the request of the offending value, when one is to blame)."""

    code = "template-invalid"

    def __init__(self, message_en: str, message_zh: str | None = None, *, pointer: str | None = None):
        super().__init__(message_en, message_zh)
        self.pointer = pointer


def _err(en: str, zh: str, path: list | None = None) -> TemplateError:
    return TemplateError(en, zh, pointer=None if path is None else pointer_of(path))


def pointer_of(path: list) -> str:
    """RFC 6901: ['fields', 'parties', 0, 'sex'] → '/fields/parties/0/sex'."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _dotted(path: list) -> str:
    return ".".join(str(p) for p in path)


# The request's own members (the fields' names come from each type's schema.json titles).
REQUEST_TITLES = {"type": "证照类型", "issuer_code": "颁发机构代码", "holders": "持证主体",
                  "valid_from": "有效期起始日期", "valid_until": "有效期截止日期",
                  "number": "证照编号", "fields": "证照信息"}
_TYPE_ZH = {"string": "文本", "integer": "整数", "number": "数字", "array": "列表",
            "object": "对象", "boolean": "是或否", "null": "空值"}


@dataclass(frozen=True)
class Template:
    folder: str
    meta: dict = field(repr=False)
    schema: dict = field(repr=False)
    layout: dict = field(repr=False)
    qr: dict = field(repr=False)
    example: dict = field(repr=False)

    # -- what the type is ---------------------------------------------------------------------
    @property
    def type_code(self) -> str:
        return self.meta["type_code"]

    @property
    def name(self) -> str:
        return self.meta["name"]

    @property
    def holder_code_type(self) -> str:
        return self.meta["holders"]["code_type"]

    @property
    def recognised(self) -> bool:
        """Mutually recognised across the Delta (listed in the trust list's recognised_types)."""
        return bool(self.meta["recognised"])

    @property
    def issuer_kinds(self) -> tuple[str, ...]:
        return tuple(self.meta["issuer_kinds"])

    @property
    def number_pattern(self) -> str:
        return self.meta["number"]["pattern"]

    @property
    def unique_parts(self) -> tuple[str, ...]:
        """What makes two licences of this type the same licence (`UNIQUE_PARTS`): while one is
        in force, issuing another with the same values is refused (docs/issuance.md "No
        duplicates")."""
        return tuple(self.meta["unique"])

    # -- names a person reads ---------------------------------------------------------------------
    def holder_titles(self, i: int = 0) -> dict[str, str]:
        """What the i-th holder's name and code are called for this type: 持证人姓名 and 公民身份号码
        for a person, 持证主体名称 and 统一社会信用代码 for an organisation; numbered when a type
        has several holders (a marriage certificate's two parties)."""
        person = self.meta["holders"].get("kind") == "natural_person"
        who = "持证人" if person else "持证主体"
        if self.meta["holders"].get("max", 1) > 1:
            who += f" {i + 1} "
        return {"name": who + ("姓名" if person else "名称"),
                "code": who + ids.CODE_TYPE_NAMES[self.holder_code_type][0],
                "code_type": who + "代码类型"}

    def title_of(self, path: list) -> str:
        """The Chinese name of a request path, for messages and the console's labels:
        ['fields', 'parties', 1, 'sex'] → 「双方信息第 2 项 · 性别」."""
        if not path:
            return "申请内容"
        if path[0] == "holders" and len(path) >= 3 and isinstance(path[1], int):
            return self.holder_titles(path[1]).get(str(path[2]), _dotted(path))
        if path[0] != "fields" or len(path) == 1:
            return REQUEST_TITLES.get(str(path[0]), _dotted(path))
        parts, node = [], self.schema
        for p in path[1:]:
            if isinstance(p, int):
                node = node.get("items", {})
                parts[-1:] = [f"{parts[-1] if parts else ''}第 {p + 1} 项"]
                continue
            node = node.get("properties", {}).get(p, {})
            parts.append(node.get("title", str(p)))
        return " · ".join(parts)

    def _named(self, path: list) -> tuple[str, str]:
        """(中文, English) of a field as messages name it: 「“法定代表人”（fields.legal_representative）」."""
        return f"“{self.title_of(path)}”（{_dotted(path)}）", _dotted(path)

    # -- requests -----------------------------------------------------------------------------
    def validate_request(self, request: Any, *, legacy: bool = False) -> list[str]:
        """Check an issuance request against this type; returns warnings, raises TemplateError
        (or IdentifierError for a bad code).  `legacy` relaxes only what legacy data is known to
        break (USCC check characters of early pilot-area codes)."""
        if not isinstance(request, dict):
            raise _err("the request must be a JSON object", "申请内容必须是 JSON 对象")
        unknown = set(request) - REQUEST_KEYS
        if unknown:
            raise _err(f"unknown request keys {sorted(unknown)}", f"申请中有未知字段 {sorted(unknown)}",
                       [sorted(unknown)[0]])
        if request.get("type", self.folder) != self.folder:
            raise _err(f"request is for type {request.get('type')!r}, not {self.folder!r}",
                       f"申请的证照类型 {request.get('type')!r} 与模板 {self.folder!r} 不符", ["type"])
        warnings: list[str] = []
        issuer = request.get("issuer_code")
        if not isinstance(issuer, str):
            raise _err("issuer_code (USCC of the issuing organisation) is required",
                       "“颁发机构代码”（issuer_code，统一社会信用代码）为必填项", ["issuer_code"])
        self._check_code(["issuer_code"], ids.check_uscc, issuer)
        warnings += self._check_holders(request.get("holders"), legacy)
        self._check_validity(request.get("valid_from"), request.get("valid_until"))
        self._check_fields(request.get("fields"))
        self._check_id_card_fields(request)
        number = request.get("number")
        if number is not None:
            if not legacy:
                raise _err("a licence number may only be given when importing legacy licences",
                           "仅在导入存量证照时可以指定证照编号", ["number"])
            if not isinstance(number, str) or not 1 <= len(number) <= 64:
                raise _err("licence number must be 1..64 characters",
                           "“证照编号”（number）长度必须为 1 到 64 个字符", ["number"])
        return warnings

    def _check_code(self, path: list, check, *args, **kwargs):
        """Run an identifier check; its error (IdentifierError, slug kept) names the field and
        carries its pointer."""
        try:
            return check(*args, **kwargs)
        except IdentifierError as exc:
            zh, en = self._named(path)
            named = IdentifierError(f"{en}: {exc.message_en}", f"{zh}：{exc.message_zh}")
            named.pointer = pointer_of(path)
            raise named from None

    def _check_holders(self, holders: Any, legacy: bool) -> list[str]:
        rule = self.meta["holders"]
        lo, hi = rule.get("min", 1), rule.get("max", 1)
        if not isinstance(holders, list) or not lo <= len(holders) <= hi:
            n = f"{lo}" if lo == hi else f"{lo}–{hi}"
            raise _err(f"{self.name} needs {n} holder(s)", f"{self.name}需要 {n} 个持证主体", ["holders"])
        warnings, seen = [], set()
        for i, h in enumerate(holders):
            if not isinstance(h, dict) or set(h) - {"name", "code", "code_type"}:
                raise _err(f"holder {i + 1} must be an object with name, code, code_type",
                           f"第 {i + 1} 个持证主体必须包含 name、code、code_type", ["holders", i])
            name = h.get("name")
            zh, en = self._named(["holders", i, "name"])
            if not isinstance(name, str) or not name.strip():
                raise _err(f"{en} is required", f"{zh}为必填项", ["holders", i, "name"])
            if len(name) > MAX_HOLDER_NAME or not name.isprintable():
                raise _err(f"{en} must be 1..{MAX_HOLDER_NAME} printable characters",
                           f"{zh}必须为 1 到 {MAX_HOLDER_NAME} 个可打印字符", ["holders", i, "name"])
            if h.get("code_type") != rule["code_type"]:
                want = ids.CODE_TYPE_NAMES[rule["code_type"]]
                raise _err(f"holder {i + 1} code type must be {rule['code_type']} ({want[1]})",
                           f"第 {i + 1} 个持证主体代码类型必须为 {rule['code_type']}（{want[0]}）",
                           ["holders", i, "code_type"])
            if not h.get("code"):
                zh, en = self._named(["holders", i, "code"])
                raise _err(f"{en} is required", f"{zh}为必填项", ["holders", i, "code"])
            warnings += self._check_code(["holders", i, "code"], ids.check_holder_code,
                                         h["code_type"], h["code"], legacy=legacy)
            if h["code"] in seen:
                raise _err("the same holder appears twice", "同一持证主体出现了两次", ["holders", i, "code"])
            seen.add(h["code"])
        return warnings

    def _check_validity(self, valid_from: Any, valid_until: Any) -> None:
        rule = self.meta["validity"]
        start = self._date("valid_from", valid_from)
        end = None if valid_until is None else self._date("valid_until", valid_until)
        if end is None:
            if not rule.get("open_end", False):
                raise _err(f"{self.name} must have an end date (valid_until is required)",
                           f"{self.name}必须有有效期截止日期：“有效期截止日期”（valid_until）为必填项",
                           ["valid_until"])
            return
        if rule.get("open_end_only"):
            raise _err(f"{self.name} has no end date (valid_until must be null)",
                       f"{self.name}长期有效，“有效期截止日期”（valid_until）必须为 null", ["valid_until"])
        if end < start:
            raise _err("valid_until is before valid_from",
                       "“有效期截止日期”（valid_until）早于有效期起始日期", ["valid_until"])
        years = rule.get("max_years")
        if years is not None:
            try:
                limit = start.replace(year=start.year + years)
            except ValueError:  # 29 February
                limit = date(start.year + years, 3, 1)
            if end >= limit:
                raise _err(f"valid_until: {self.name} is valid at most {years} years",
                           f"“有效期截止日期”（valid_until）超出期限：{self.name}有效期最长 {years} 年",
                           ["valid_until"])

    def _date(self, key: str, value: Any) -> date:
        zh, en = self._named([key])
        if value is None or value == "":
            raise _err(f"{en} is required", f"{zh}为必填项", [key])
        try:
            if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            raise _err(f"{en} must be a YYYY-MM-DD date" + (" (valid_until may be null)"
                                                            if key == "valid_until" else ""),
                       f"{zh}必须为 YYYY-MM-DD 格式的日期" + ("（截止日期可为 null 表示长期）"
                                                          if key == "valid_until" else ""),
                       [key]) from None

    def _check_fields(self, fields: Any) -> None:
        validator = _validator(self.folder, json.dumps(self.schema, sort_keys=True))
        errors = sorted(validator.iter_errors(fields if fields is not None else {}),
                        key=lambda e: list(e.absolute_path))
        if errors:
            self._raise_schema_error(errors[0])

    def _raise_schema_error(self, e) -> None:
        """One jsonschema error as a sentence an officer can act on, naming the field."""
        path, v, value = ["fields", *e.absolute_path], e.validator, e.validator_value
        if v == "required":
            path.append(next(p for p in value if p not in e.instance))
        elif v == "additionalProperties":
            allowed = set(e.schema.get("properties", {}))
            path.append(sorted(k for k in e.instance if k not in allowed)[0])
        zh, en = self._named(path)
        if v == "required" or (v == "minLength" and e.instance == ""):
            zh_why, en_why = "为必填项", "is required"
        elif v == "additionalProperties":
            zh_why, en_why = f"不是{self.name}的字段", f"is not a field of {self.folder}"
        elif v == "type":
            want = value if isinstance(value, list) else [value]
            zh_why = "应为" + "或".join(_TYPE_ZH.get(t, t) for t in want)
            en_why = f"must be of type {' or '.join(want)}"
        elif v == "enum":
            zh_why = "只能是以下之一：" + "、".join(str(x) for x in value)
            en_why = f"must be one of {', '.join(str(x) for x in value)}"
        elif v == "format" and value == "date":
            zh_why, en_why = "必须为 YYYY-MM-DD 格式的有效日期", "must be a valid YYYY-MM-DD date"
        elif v in ("minLength", "maxLength", "minItems", "maxItems"):
            n = "个字符" if v.endswith("Length") else "项"
            zh_why = f"{'至少' if v.startswith('min') else '最多'} {value} {n}"
            en_why = f"must have {'at least' if v.startswith('min') else 'at most'} {value} " \
                     f"{'characters' if v.endswith('Length') else 'items'}"
        elif v == "uniqueItems":
            zh_why, en_why = "不能有重复项", "must not repeat an item"
        elif v == "pattern":
            zh_why, en_why = "格式不正确", "does not have the required format"
        else:
            zh_why, en_why = "不符合要求", f"does not fit the schema ({v})"
        raise _err(f"field {en} {en_why}", f"字段{zh}{zh_why}", path)

    def _check_id_card_fields(self, request: dict) -> None:
        """Fields that repeat what an identity number encodes (birth date, sex: odd 17th digit
        is male) must agree with it: a clerk's typo caught at issuance, not by the holder."""
        rule = self.meta.get("id_card_fields")
        if not rule or self.holder_code_type != ids.CODE_TYPE_ID_CARD:
            return
        for i, holder in enumerate(request["holders"]):
            code = holder["code"]
            derived = {"birth_date": f"{code[6:10]}-{code[10:12]}-{code[12:14]}",
                       "sex": "男" if int(code[16]) % 2 else "女"}
            for what, path in rule.items():
                value = _get(request, path.replace("{i}", str(i)))
                if value is not None and value != derived[what]:
                    where = [int(p) if p.isdigit() else p for p in path.replace("{i}", str(i)).split(".")]
                    zh, en = self._named(where)
                    raise _err(f"{en} ({value}) does not match holder {i + 1}'s identity number",
                               f"{zh}（{value}）与第 {i + 1} 个持证主体的公民身份号码不一致", where)

    # -- records ------------------------------------------------------------------------------
    def licence_number(self, request: dict, *, region: str, issued: date) -> str:
        """A new 证照编号 per the template pattern (or the legacy number given on import)."""
        if request.get("number"):
            return request["number"]
        variables = {"holder_code": request["holders"][0]["code"]}
        variables.update({k: v for k, v in (request.get("fields") or {}).items()
                          if isinstance(v, str)})
        return ids.format_licence_number(self.number_pattern, region=region, issued=issued,
                                         variables=variables)

    def make_record(self, request: dict, *, identifier: str, number: str, issuer_name: str,
                    region: str, issued_on: date, version: int = 1) -> dict:
        """The licence record the PDF, the QR and the signature are made from (GB/T 36903
        names in English; docs/formats.md "Templates").  JSON only: no floats, dates as text."""
        return {
            "identifier": identifier,
            "type_code": self.type_code,
            "type_name": self.name,
            "number": number,
            "holders": [{"name": h["name"], "code": h["code"], "code_type": h["code_type"]}
                        for h in request["holders"]],
            "issuer": {"name": issuer_name, "code": request["issuer_code"]},
            "issued_on": issued_on.isoformat(),
            "valid_from": request["valid_from"],
            "valid_until": request.get("valid_until"),
            "region": region,
            "version": version,
            "fields": dict(request.get("fields") or {}),
        }


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


@lru_cache(maxsize=64)
def _validator(folder: str, schema_json: str):
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


# -- loading and checking folders ---------------------------------------------------------------

def load_template(folder: Path) -> Template:
    folder = Path(folder)
    name = folder.name
    if not _FOLDER.match(name):
        raise _err(f"template folder name {name!r} must be lowercase letters, digits, _",
                   f"模板目录名 {name!r} 只能包含小写字母、数字和下划线")
    data = {}
    for f in FILES:
        p = folder / f
        try:
            data[f] = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise _err(f"template {name}: missing {f}", f"模板 {name} 缺少文件 {f}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise _err(f"template {name}: {f} is not valid JSON: {exc}",
                       f"模板 {name} 的 {f} 不是有效的 JSON") from None
    t = Template(name, data["template.json"], data["schema.json"], data["layout.json"],
                 data["qr.json"], data["example.json"])
    try:
        _check_meta(t)
        _check_schema(t)
        _check_layout(t)
        _check_qr(t)
    except IdentifierError as exc:
        raise _err(f"template {name}: {exc.message_en}", f"模板 {name}：{exc.message_zh}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise _err(f"template {name} is incomplete: {exc.__class__.__name__} {exc}",
                   f"模板 {name} 内容不完整") from None
    return t


def _check_meta(t: Template) -> None:
    m = t.meta
    if m.get("schema") != TEMPLATE_SCHEMA:
        raise _err(f"template {t.folder}: template.json schema must be {TEMPLATE_SCHEMA}",
                   f"模板 {t.folder} 的 template.json 版本必须为 {TEMPLATE_SCHEMA}")
    code = m["type_code"]
    if not (isinstance(code, str) and len(code) == 21 and code[18:].isdigit()):
        raise _err(f"template {t.folder}: type_code must be an 18-character USCC + 3 digits",
                   f"模板 {t.folder} 的证照类型代码必须为 18 位统一社会信用代码加 3 位数字")
    ids.check_uscc(code[:18])
    if m["defining_authority"]["code"] != code[:18]:
        raise _err(f"template {t.folder}: type_code must start with the defining authority code",
                   f"模板 {t.folder} 的证照类型代码必须以证照定义机构代码开头")
    if not isinstance(m["name"], str) or not m["name"]:
        raise ValueError("name")
    h = m["holders"]
    if h["code_type"] not in ids.CODE_TYPE_NAMES or not 1 <= h.get("min", 1) <= h.get("max", 1) <= 10:
        raise _err(f"template {t.folder}: bad holders rule", f"模板 {t.folder} 的持证主体规则错误")
    if h.get("kind") not in ("natural_person", "legal_person"):
        raise ValueError("holders.kind must be natural_person or legal_person")
    if not isinstance(m["recognised"], bool):
        raise ValueError("recognised must be true or false")
    if not m["issuer_kinds"] or not all(isinstance(k, str) for k in m["issuer_kinds"]):
        raise ValueError("issuer_kinds must list organisation kinds")
    v = m["validity"]
    if v.get("max_years") is not None and not (isinstance(v["max_years"], int) and v["max_years"] > 0):
        raise ValueError("validity.max_years")
    ids.licence_number_regex(m["number"]["pattern"])
    _check_unique(t)
    for what, path in m.get("id_card_fields", {}).items():
        if what not in ("birth_date", "sex") or not path.startswith("fields."):
            raise _err(f"template {t.folder}: id_card_fields maps birth_date/sex to fields.* paths",
                       f"模板 {t.folder} 的 id_card_fields 只能把 birth_date/sex 对应到 fields 字段")


def _check_unique(t: Template) -> None:
    """`unique` lists the parts of a record that name one licence: "holders", "number" (only
    when the number pattern has no random serial: a number drawn afresh never repeats, so the
    rule could never hold) or "fields.<a property of schema.json>"."""
    parts = t.meta.get("unique")
    fields = t.schema.get("properties", {})
    bad = not isinstance(parts, list) or not parts or len(set(map(str, parts))) != len(parts)
    for part in parts if not bad else ():
        if not isinstance(part, str):
            bad = True
        elif part == "number" and "{serial" in t.number_pattern:
            raise _err(f"template {t.folder}: unique cannot use a number with a random serial",
                       f"模板 {t.folder} 的 unique 不能使用含随机序号的证照编号")
        elif part not in UNIQUE_PARTS and not (part.startswith("fields.") and part[7:] in fields):
            bad = True
    if bad:
        raise _err(f"template {t.folder}: unique must list distinct parts of "
                   f"{', '.join(UNIQUE_PARTS)}, fields.<field of schema.json>",
                   f"模板 {t.folder} 的 unique（唯一性规则）必须列出不重复的 "
                   f"{'、'.join(UNIQUE_PARTS)} 或 schema.json 中的 fields 字段")


def _check_schema(t: Template) -> None:
    try:
        jsonschema.Draft202012Validator.check_schema(t.schema)
    except jsonschema.SchemaError as exc:
        raise _err(f"template {t.folder}: schema.json is not a valid JSON Schema: {exc.message}",
                   f"模板 {t.folder} 的 schema.json 不是有效的 JSON Schema") from None
    if t.schema.get("type") != "object":
        raise _err(f"template {t.folder}: schema.json must describe an object",
                   f"模板 {t.folder} 的 schema.json 必须描述一个对象")


def _check_layout(t: Template) -> None:
    lay = t.layout
    w, h = (297, 210) if lay.get("page", {}).get("orientation") == "landscape" else (210, 297)
    for box in ("qr", "seal") + (("photo",) if "photo" in lay else ()):
        b = lay[box]
        bw, bh = b.get("w", b.get("size")), b.get("h", b.get("size"))
        if not (0 <= b["x"] and b["x"] + bw <= w and 0 <= b["y"] and b["y"] + bh <= h):
            raise _err(f"template {t.folder}: {box} box is off the page",
                       f"模板 {t.folder} 的 {box} 位置超出页面")
    if lay["qr"]["size"] < 25:
        raise _err(f"template {t.folder}: the QR must be at least 25 mm for phone cameras",
                   f"模板 {t.folder} 的二维码尺寸不得小于 25 毫米")
    props = t.schema.get("properties", {})
    for spec in lay.get("fields", []) + [x for x in lay.get("texts", []) if "value" in x]:
        if spec.get("format") == "validity":
            continue
        for value in (spec["value"], *([spec["or"]] if "or" in spec else [])):
            path = value.split(".")
            if path[0] not in RECORD_PATH_ROOTS:
                raise _err(f"template {t.folder}: layout refers to unknown record path {value}",
                           f"模板 {t.folder} 的版式引用了未知字段 {value}")
            if path[0] == "fields" and path[1] not in props:
                raise _err(f"template {t.folder}: layout field {value} is not in schema.json",
                           f"模板 {t.folder} 的版式字段 {value} 未在 schema.json 中定义")


def _check_qr(t: Template) -> None:
    claims = t.qr.get("claims", LICENCE_CLAIM_KEYS)
    for k in ("id", "t", "n", "h", "vf", "r", "v"):
        if k not in claims:
            raise _err(f"template {t.folder}: qr.json must include claim {k!r}",
                       f"模板 {t.folder} 的 qr.json 必须包含声明 {k!r}")
    for k, rule in t.qr.get("mask", {}).items():
        if k not in ("h", "hid", "n") or not _MASK.match(rule):
            raise _err(f"template {t.folder}: bad masking rule {k}: {rule!r}",
                       f"模板 {t.folder} 的脱敏规则错误：{k}: {rule!r}")
    if t.holder_code_type == ids.CODE_TYPE_ID_CARD and t.qr.get("mask", {}).get("hid", "none") == "none":
        raise _err(f"template {t.folder}: identity numbers must be masked in the printed QR",
                   f"模板 {t.folder}：打印二维码中的身份证号必须脱敏")


def use_template_dirs(extra: "tuple[Path, ...] | list[Path]") -> None:
    """Search the built-in types, then each folder of `extra` (later ones win by folder name).
    Every folder is loaded and checked now, so a broken one fails at start-up."""
    global _search_path
    path = (TEMPLATES_DIR, *(Path(d) for d in extra))
    merged: dict[str, Template] = {}
    for d in path:
        merged.update(_load_all(str(d.resolve())))
    codes: dict[str, str] = {}
    for folder, t in merged.items():
        if t.type_code in codes:
            raise _err(f"licence type code {t.type_code} is used by both {codes[t.type_code]} and {folder}",
                       f"证照类型代码 {t.type_code} 同时被 {codes[t.type_code]} 和 {folder} 使用")
        codes[t.type_code] = folder
    _search_path = path


def load_templates(directory: Path | str | None = None) -> dict[str, Template]:
    """Every template folder under `directory`, or, by default, on the configured search path
    (the built-in types first, then the `templates_dirs` setting's folders)."""
    if directory is not None:
        return dict(_load_all(str(Path(directory).resolve())))
    merged: dict[str, Template] = {}
    for d in _search_path:
        merged.update(_load_all(str(d.resolve())))
    return merged


@lru_cache(maxsize=16)
def _load_all(directory: str) -> tuple[tuple[str, Template], ...]:
    root = Path(directory)
    if not root.is_dir():
        raise _err(f"templates folder not found: {root}", f"未找到证照模板目录：{root}")
    out = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        out.append((d.name, load_template(d)))
    return tuple(out)


def get_template(folder: str, directory: Path | str | None = None) -> Template:
    templates = load_templates(directory)
    if folder not in templates:
        raise _err(f"unknown licence type {folder!r}; known: {', '.join(templates)}",
                   f"未知的证照类型 {folder!r}，可用类型：{'、'.join(templates)}")
    return templates[folder]


def by_type_code(type_code: str, directory: Path | str | None = None) -> Template | None:
    return next((t for t in load_templates(directory).values() if t.type_code == type_code), None)
