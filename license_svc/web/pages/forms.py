"""The console's issue and amend form, described from a licence type's template: the template's
JSON Schema stays the one definition of a type's fields, and the page draws its inputs from this
description instead of keeping a form per type that would drift from the schema.

`describe(template)` gives sections of controls.  Each control names its place in the request as
an RFC 6901 pointer (`/fields/parties/0/sex`) — the same pointer a `TemplateError` carries, so a
message from the server lands next to the input it is about — a Chinese `label` (the schema's
`title`; the holders' and validity's names from `Template.title_of`), the full `title` messages
use (「“双方信息第 2 项 · 性别”为必填项」 where the label is 「性别」), an input kind and the
constraints the page checks before sending (required, pattern, lengths, items).  The server
checks everything again; the page's checks only spare the officer a round trip.

Input kinds: `text`, `textarea` (long text), `date`, `select` (an `enum`), `number`, `lines`
(a list of short texts, one per line), `image` (a base64 photo: a file picker), `open-end`
(a validity that never has an end date, shown as 长期); a `date` with `open_end` offers a 长期
checkbox (a validity that may have no end date).
"""

from __future__ import annotations

from typing import Any

from license_svc.identifiers import CODE_TYPE_ID_CARD, CODE_TYPE_USCC
from license_svc.templates import Template, pointer_of

LONG_TEXT = 120          # longer strings get a textarea
MAX_REPEATED = 10        # an array of objects is drawn as this many item groups at most
_CODE_LENGTH = {CODE_TYPE_USCC: 18, CODE_TYPE_ID_CARD: 18}


def describe(template: Template) -> dict[str, Any]:
    return {"type": template.folder, "name": template.name,
            "holder_code_type": template.holder_code_type,
            "sections": [*_holders(template), _validity(template),
                         *_object(template, ["fields"], template.schema, "证照信息")]}


def _control(template: Template, path: list, *, label: str | None = None, **kw) -> dict[str, Any]:
    return {"pointer": pointer_of(path), "label": label or template.title_of(path),
            "title": template.title_of(path), "required": False, **kw}


def _holders(template: Template) -> list[dict]:
    rule = template.meta["holders"]
    length = _CODE_LENGTH.get(template.holder_code_type)
    sections = []
    for i in range(rule.get("max", 1)):
        titles = template.holder_titles(i)
        required = i < rule.get("min", 1)
        title = "持证主体" if rule.get("max", 1) == 1 else f"持证主体 {i + 1}"
        sections.append({"title": title, "controls": [
            _control(template, ["holders", i, "name"], label=titles["name"], input="text",
                     required=required, max_length=100),
            _control(template, ["holders", i, "code"], label=titles["code"], input="text",
                     required=required, min_length=length, max_length=length or 64,
                     uppercase=template.holder_code_type == CODE_TYPE_USCC),
        ]})
    return sections


def _validity(template: Template) -> dict:
    rule = template.meta["validity"]
    controls = [_control(template, ["valid_from"], input="date", required=True)]
    if rule.get("open_end_only"):
        controls.append(_control(template, ["valid_until"], input="open-end", fixed=True,
                                 hint="长期有效，无截止日期"))
    else:
        controls.append(_control(template, ["valid_until"], input="date",
                                 required=not rule.get("open_end", False),
                                 open_end=bool(rule.get("open_end", False)),
                                 hint=f"最长 {rule['max_years']} 年" if rule.get("max_years") else None))
    return {"title": "有效期", "controls": controls}


def _object(template: Template, path: list, schema: dict, title: str) -> list[dict]:
    """One section for an object's scalar properties, then one per nested group (an array of
    objects is one group per item)."""
    required = set(schema.get("required", []))
    controls, groups = [], []
    for name, prop in schema.get("properties", {}).items():
        here = [*path, name]
        if prop.get("type") == "object":
            groups += _object(template, here, prop, template.title_of(here))
        elif prop.get("type") == "array" and prop.get("items", {}).get("type") == "object":
            count = prop.get("maxItems") or prop.get("minItems") or 1
            for i in range(min(count, MAX_REPEATED)):
                groups += _object(template, [*here, i], prop["items"], template.title_of([*here, i]))
        else:
            controls.append(_scalar(template, here, prop, name in required))
    return ([{"title": title, "controls": controls}] if controls else []) + groups


def _scalar(template: Template, path: list, prop: dict, required: bool) -> dict:
    label = prop.get("title", str(path[-1]))
    limits = {"pattern": prop.get("pattern"), "min_length": prop.get("minLength"),
              "max_length": prop.get("maxLength")}
    if "enum" in prop:
        return _control(template, path, label=label, input="select", required=required,
                        options=list(prop["enum"]))
    if prop.get("contentEncoding") == "base64":
        return _control(template, path, label=label, input="image", required=required,
                        max_length=prop.get("maxLength"))
    if prop.get("type") == "array":
        items = prop.get("items", {})
        return _control(template, path, label=label, input="lines", required=required,
                        min_items=prop.get("minItems"), max_items=prop.get("maxItems"),
                        unique=bool(prop.get("uniqueItems")), pattern=items.get("pattern"),
                        min_length=items.get("minLength"), max_length=items.get("maxLength"),
                        hint="每行一项")
    if prop.get("type") in ("integer", "number"):
        return _control(template, path, label=label, input="number", required=required,
                        integer=prop["type"] == "integer", minimum=prop.get("minimum"),
                        maximum=prop.get("maximum"))
    if prop.get("format") == "date":
        return _control(template, path, label=label, input="date", required=required)
    long = (prop.get("maxLength") or 0) > LONG_TEXT
    return _control(template, path, label=label, input="textarea" if long else "text",
                    required=required, **limits)
