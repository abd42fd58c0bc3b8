"""Disputes (异议处理): filing, resolving, and the node-to-node messages (docs/api.md)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from license_svc.web.schemas.common import Open


class Evidence(Open):
    content_type: str = Field(..., pattern="^(application/pdf|image/png|image/jpeg)$")
    data_base64: str = Field(..., description="at most 2 MiB decoded")


class DisputeRequest(Open):
    licence_id: str
    category: str = Field(..., pattern="^(data-wrong|suspected-forgery|status-wrong|other)$")
    text: str = Field(..., min_length=1, max_length=2000)
    evidence: Evidence | None = None


class ResolveRequest(Open):
    outcome: str = Field(..., pattern="^(corrected|rejected)$")
    new_identifier: str | None = Field(None, description="corrected: a later version stored here")
    amend: dict[str, Any] | None = Field(None, description='corrected: {"changes", "reason"}, '
                                         "amended in the same transaction")
    reason: str | None = Field(None, max_length=500, description="rejected: why (required)")


class Dispute(Open):
    id: str
    state: str = Field(..., description="pending-delivery | open | resolved | refused")
    overdue: bool
    licence_id: str
    issuer_code: str
    filed_region: str
    issuing_region: str
    filer_org: str
    category: str
    category_zh: str
    text: str
    evidence: dict[str, Any] | None
    filed_at: str
    due_at: str
    outcome: str | None
    new_identifier: str | None
    reason: str | None
    resolved_at: str | None


class Resolved(Dispute):
    outcome_delivered: bool


class DisputeList(Open):
    disputes: list[Dispute]


class NodeDispute(DisputeRequest):
    """A dispute as the filing node sends it to the issuing node, signed over these bytes
    (header `Licence-Node-Request`, docs/federation.md "Disputes between nodes")."""

    id: str = Field(..., description="the dispute's UUID, chosen by the filing node")
    filed_region: str = Field(..., description="the calling node's region")
    filer_org: str = Field(..., max_length=32)
    filer_client: str = Field(..., max_length=64)
    filed_at: str = Field(..., description="RFC 3339 with zone")


class NodeOutcome(Open):
    """The issuing node's answer to a dispute filed at the called node (signed, as above)."""

    outcome: str = Field(..., pattern="^(corrected|rejected)$")
    new_identifier: str | None = None
    reason: str | None = Field(None, max_length=500)
    resolved_at: str | None = None
