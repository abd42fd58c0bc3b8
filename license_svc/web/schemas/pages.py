"""The JSON routes the pages use (wallet, console), `license_svc/web/pages/api.py`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from license_svc.web.schemas.common import Open


class Me(Open):
    client_id: str
    name: str
    region: str
    org_code: str | None
    roles: list[str]
    licence_types: list[str]
    operator: str | None = Field(None, description="a clerk signed in through the identity "
                                 "provider: the name recorded as operator (docs/pages.md)")
    session_expires_at: str | None = Field(None, description="a page session: when it ends")


class LicenceSummary(Open):
    identifier: str
    version: int
    type_code: str
    type_name: str
    number: str
    holder_name: str
    issuer: dict[str, Any]
    region: str
    valid_from: str
    valid_until: str | None
    status: str
    status_zh: str


class Licences(Open):
    licences: list[LicenceSummary]


class Presentation(Open):
    identifier: str
    text: str = Field(..., description="EP1:… (valid at most 60 s, accepted once)")
    cti: str
    issued_at: str
    expires_at: str
    refresh_after: int
    png: str = Field(..., description="base64 PNG of the QR")


class IssuableType(Open):
    type: str
    name: str
    type_code: str
    example: dict[str, Any]


class Templates(Open):
    templates: list[IssuableType]
