"""Trust lists, sync and the scenario list (docs/federation.md)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from license_svc.web.schemas.common import Open, SignedEnvelope
from license_svc.web.schemas.openapi import ok


def signed(description: str) -> dict:
    """A signed list, or 304 to `If-None-Match` when unchanged."""
    return {**ok(SignedEnvelope, description=description),
            304: {"description": "unchanged since the ETag sent in If-None-Match"}}


class SyncOutcome(Open):
    kind: str
    region: str
    outcome: str
    sequence: int | None
    url: str | None
    detail: str


class SyncRound(Open):
    outcomes: list[SyncOutcome]


class SyncStatus(Open):
    held: list[dict[str, Any]]
    trust: dict[str, Any]


class Scenario(Open):
    matter_code: str = Field(..., examples=["310000-000-0001"])
    name: str
    licence_types: list[str] = Field(..., description="type codes")
    regions: list[str]
