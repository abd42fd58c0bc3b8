"""Grants, 免证办 retrieval (local and the issuing node's side), the holder's access log and the
auditor's search (docs/api.md "Grants, retrieval, access log")."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from license_svc.web.schemas.common import Open
from license_svc.web.schemas.openapi import binary, ok


class GrantRequest(Open):
    grantee_org: str = Field(..., description="the department's USCC")
    grantee_region: str | None = Field(None, description="the department's region (default: this one)")
    licence_type: str = Field(..., description="type name (driving_licence) or type code")
    licence_id: str | None = Field(None, description="limit the grant to one licence")
    matter_code: str = Field(..., description="事项编码 on the scenario list")
    valid_until: str = Field(..., description="RFC 3339, at most 366 days ahead")
    max_uses: int | None = Field(None, ge=1, le=10000, description="null: any number until valid_until")


class Grant(Open):
    id: str = Field(..., examples=["grt_nhAN1EAqBwPTejkRmiCM7w"])
    status: str = Field(..., description="active | revoked | expired | used_up")
    status_zh: str
    grantee_org: str
    grantee_region: str
    licence_type: str
    type_code: str
    licence_id: str | None
    matter_code: str
    holder_code_type: str
    created_at: str
    valid_until: str
    max_uses: int | None
    uses_left: int | None
    revoked_at: str | None


class GrantList(Open):
    grants: list[Grant]


class RetrievalRequest(Open):
    holder_code: str = Field(..., description="the holder's code (sent in the body only)")
    holder_code_type: str = Field(..., examples=["111"])
    licence_type: str
    matter_code: str
    grant_id: str | None = Field(None, description="the holder's grant, or …")
    legal_basis: str | None = Field(None, min_length=4, max_length=200,
                                    description="… the law, for a retrieval by law (依职权)")
    licence_id: str | None = None
    want: str = Field("data", pattern="^(data|verify|pdf)$")
    operator: str | None = Field(None, description="the clerk, recorded in the audit entry")
    region: str | None = Field(None, description="the issuing region when it is not this node's")


class Retrieval(Open):
    """`want: data` — licences are licence views; `want: verify` — a verdict per licence and
    `valid`: whether any is valid now."""

    want: str
    matter_code: str
    grant: dict[str, Any] | None
    legal_basis: str | None
    licences: list[dict[str, Any]]
    valid: bool | None


RETRIEVED = {200: {"description": "`want: data | verify`: JSON; `want: pdf`: the PDF "
                                  "(header `X-Licence-Id`)",
                   "content": {**ok(Retrieval)[200]["content"],
                               **binary("application/pdf")[200]["content"]}}}


class NodeRetrievalRequest(Open):
    """Signed by the calling node (header `Licence-Node-Request`), over these exact bytes."""

    schema_: str = Field(..., alias="schema", examples=["yrd-retrieval/1"])
    request_id: str | None = None
    department: dict[str, Any] = Field(..., description="org_code, client_id, name, operator")
    retrieval: RetrievalRequest


class NodeRetrieval(Retrieval):
    schema_: str = Field(..., alias="schema", examples=["yrd-retrieval/1"])
    region: str
    disclosed: list[str]
    pdf: str | None = Field(None, description="`want: pdf`: base64 of the PDF")


class AccessLogEntry(Open):
    index: int
    time: str
    action: str
    outcome: str
    department: dict[str, Any]
    licence_id: str | None
    entry: dict[str, Any]
    leaf: str = Field(..., description="base64 of the exact leaf bytes")
    inclusion_proof: dict[str, Any] | None


class AccessLog(Open):
    holder_ref: str
    checkpoint: dict[str, Any] | None
    entries: list[AccessLogEntry]
    next_before: int | None


class AuditHit(Open):
    index: int
    entry: dict[str, Any]
    leaf: str


class AuditSearch(Open):
    entries: list[AuditHit]
    next_before: int | None
