"""Seals: making and managing them, signing with one, stamping documents (docs/seals.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from license_svc.web.schemas.common import Open


class SealIn(BaseModel):
    org_code: str = Field(..., max_length=32)
    name: str = Field(..., min_length=1, max_length=40)
    type: int = Field(1, description="1 单位印章, 2 个人印章, 3 专用章")
    shape: str | None = Field(None, description="round | oval | square")
    number: str = Field("", max_length=24)
    valid_start: datetime | None = None
    valid_end: datetime | None = None

    @field_validator("name", "number")
    @classmethod
    def _printable(cls, value: str) -> str:
        # Drawn on the seal and stored: no control characters (NUL is a PostgreSQL error) and
        # no bidirectional overrides that would make the picture read otherwise than the record.
        if not value.isprintable():
            raise ValueError("must be printable text")
        return value


class StatusIn(BaseModel):
    reason: str | None = Field(None, max_length=500)


class Seal(Open):
    id: str
    region: str
    org_code: str
    name: str
    type: int
    status: str = Field(..., description="active | suspended | revoked")
    status_reason: str | None
    valid_start: str
    valid_end: str
    created_at: str


class SignHash(Open):
    """Sign a digest instead of sending the document."""

    sm3: str | None = Field(None, pattern="^[0-9a-fA-F]{64}$", description="algorithm=sm2")
    sha256: str | None = Field(None, pattern="^[0-9a-fA-F]{64}$", description="algorithm=rsa")
    property_info: str | None = Field(None, max_length=200, description="ASCII")


class SealUpload(Open):
    file: bytes = Field(..., json_schema_extra={"format": "binary"}, description=".esl or .dat")
    document: bytes | None = Field(None, json_schema_extra={"format": "binary"},
                                   description="the signed document, to check the signature's digest")
