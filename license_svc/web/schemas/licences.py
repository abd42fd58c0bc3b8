"""Licences: the issuance request (its `fields` generated from each licence type's template),
the licence view, lifecycle answers, signed status.

The `fields` of an issuance request are defined once, by the type's `schema.json`; the route
validates with it (bilingual errors naming the field).  This module only *copies* those schemas
into the OpenAPI document — one `LicenceFields_<type>` and one `IssueRequest_<type>` component
per type, joined in `IssueRequest` by a `oneOf` on `type` — with the template's `example.json`
as the example, so the document cannot drift from the templates either."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from license_svc import templates
from license_svc.web.schemas.common import Open, SignedEnvelope
from license_svc.web.schemas.openapi import REF, add_components, ref

ISSUE_REQUEST = {"$ref": REF.format(model="IssueRequest")}
MAX_EXAMPLE_VALUE = 1000  # a photo's base64 is left out of the document's examples


class Holder(Open):
    name: str = Field(..., max_length=100, examples=["上海示例科技有限公司"])
    code: str = Field(..., description="统一社会信用代码 or 公民身份号码 (by `code_type`)")
    code_type: str = Field(..., examples=["001"], description="001 USCC, 111 resident ID card")


class IssueEnvelope(Open):
    """What every licence type's request has; `fields` is the type's own (see IssueRequest)."""

    type: str = Field(..., description="licence type folder name, e.g. business_licence")
    algorithm: str = Field("sm2", pattern="^(sm2|rsa)$", description="which of the issuing "
                           "organisation's keys signs")
    issuer_code: str | None = Field(None, description="the issuing organisation's USCC "
                                    "(default: the calling client's organisation)")
    holders: list[Holder] = Field(..., min_length=1)
    valid_from: str = Field(..., pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-01-15"])
    valid_until: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$",
                                    description="null: long-term (长期), where the type allows it")
    number: str | None = Field(None, description="licence number, where the type's rule lets "
                               "the issuer give it")
    fields: dict[str, Any]
    replaces: str | None = Field(None, description="the identifier of a licence in force this "
                                 "request amends instead of issuing another (docs/issuance.md "
                                 "\"No duplicates\")")
    reason: str | None = Field(None, max_length=500, description="with `replaces`: why (变更原因)")


ENVELOPE = ref(IssueEnvelope)  # registered now: the providers run after the models are collected


def _example(template: templates.Template) -> dict:
    example = {k: v for k, v in template.example.items()}
    example["fields"] = {k: v for k, v in template.example.get("fields", {}).items()
                         if not (isinstance(v, str) and len(v) > MAX_EXAMPLE_VALUE)}
    return example


def _issue_components() -> dict[str, dict]:
    out: dict[str, dict] = {}
    variants, mapping = [], {}
    for folder, template in sorted(templates.load_templates().items()):
        fields = {k: v for k, v in template.schema.items() if k != "$schema"}
        fields["description"] = f"{template.name}的字段 / fields of {folder} (schema.json)"
        fields["examples"] = [_example(template)["fields"]]
        out[f"LicenceFields_{folder}"] = fields
        name = f"IssueRequest_{folder}"
        out[name] = {
            "title": f"{template.name} / {folder}",
            "allOf": [ENVELOPE, {"type": "object", "properties": {
                "type": {"const": folder},
                "fields": {"$ref": REF.format(model=f"LicenceFields_{folder}")}}}],
            "examples": [_example(template)],
        }
        variants.append({"$ref": REF.format(model=name)})
        mapping[folder] = REF.format(model=name)
    out["IssueRequest"] = {
        "title": "IssueRequest", "description": "签发申请 / an issuance request: one variant per "
        "licence type, chosen by `type`; `fields` follow that type's template schema",
        "oneOf": variants, "discriminator": {"propertyName": "type", "mapping": mapping}}
    return out


add_components(_issue_components)


def issue_examples() -> dict[str, dict]:
    """Each licence type's example.json, by type, for the request body's example list."""
    return {folder: {"summary": f"{t.name} / {folder}", "value": _example(t)}
            for folder, t in sorted(templates.load_templates().items())}

BATCH_REQUEST = {"oneOf": [
    {"type": "array", "minItems": 1, "maxItems": 100, "items": ISSUE_REQUEST},
    {"type": "object", "required": ["licences"], "properties": {
        "licences": {"type": "array", "minItems": 1, "maxItems": 100, "items": ISSUE_REQUEST}}},
], "description": "1–100 issuance requests, all or nothing except duplicates of licences in "
   "force (left out, listed in `rejected`): a list, or {\"licences\": [...]}"}


class StatusListRef(Open):
    list: str = Field(..., examples=["sh-11310000MB0000010A-0001"])
    index: int


class SignedEvent(Open):
    event: dict[str, Any] = Field(..., description="yrd-licence-event/1: action, actor, at, "
                                  "status, reason, seq, prev")
    signature: str
    cert: str


class LicenceView(Open):
    """A licence version: the signed record, its EL1 code, status and signed history."""

    identifier: str = Field(..., description="GB/T 36904 证照标识")
    version: int
    status: str = Field(..., description="active | suspended | revoked | superseded | expired")
    superseded_by: str | None = None
    algorithm: str
    data_hash: str
    signed_record: SignedEnvelope
    el1: str = Field(..., description="the printed QR's text (EL1:…)")
    status_list: StatusListRef | None = None
    events: list[SignedEvent]


class Rejected(Open):
    """A batch item left out as a duplicate (docs/issuance.md "No duplicates")."""

    index: int
    code: str = Field(..., examples=["licence-duplicate"])
    existing_identifier: str = Field(..., description="the licence in force it duplicates")
    message_zh: str
    message_en: str


class Issued(Open):
    identifiers: list[str] = Field(..., description="the new licences, in request order")
    rejected: list[Rejected] | None = Field(None, description="items left out as duplicates")


class StatusChange(Open):
    identifier: str
    status: str
    event: dict[str, Any] = Field(..., description="the signed lifecycle event (canonical form)")


class RevokeRequest(Open):
    reason: str = Field(..., max_length=500, description="原因 / why (recorded in the signed event)")


class AmendRequest(Open):
    changes: dict[str, Any] = Field(..., description="what changes: `fields` (merged into the "
                                    "type's fields), `holders`, `valid_until`, …")
    reason: str | None = Field(None, max_length=500)


class TrailEntry(Open):
    index: int
    time: str
    action: str
    outcome: str
    licence_id: str
    version: int
    actor: dict[str, Any]
    purpose: str | None = None
    legal_basis: str | None = None
    source_region: str | None = None
    reason: str | None = None


class Trail(Open):
    """`GET /licences/{id}/audit`: the audit entries about every version of one licence, for
    the issuing organisation's officers and auditors (no holder references)."""

    identifier: str
    versions: list[str]
    entries: list[TrailEntry]
