"""Liveness, readiness, metrics, trust material."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from license_svc.web.schemas.common import Open


class Alive(Open):
    status: str = Field(..., examples=["ok"])


class Ready(Open):
    status: str = Field(..., examples=["ready"])
    region: str
    checks: dict[str, str]
    issuance: dict[str, Any] = Field(..., description='{"ok", "withdrawn", "missing"}')
    trust_lists: dict[str, Any]


class Certificate(Open):
    id: str
    role: str
    algorithm: str
    org_name: str | None
    org_code: str | None
    serial: str
    not_before: str
    not_after: str
    sha256: str
    issuer: str | None
    status: str
    subject: str
    pem: str


class TrustMaterial(Open):
    region: str
    development_only: bool
    certificates: list[Certificate]
    crls: list[dict[str, Any]]
    federation: list[Certificate]
