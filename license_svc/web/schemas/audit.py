"""The audit log's public proofs and its entries (docs/api.md, docs/audit.md)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from license_svc.web.schemas.common import Open

NOTE = {"text/plain": {"schema": {"type": "string"}}}


class Entry(Open):
    index: int
    entry: dict[str, Any]
    leaf: str = Field(..., description="base64 of the exact leaf bytes (hash: SM3(0x00 ‖ leaf))")


class InclusionProof(Open):
    index: int
    size: int
    hashes: list[str] = Field(..., description="base64 SM3 hashes, RFC 9162 §2.1.3")


class ConsistencyProof(Open):
    from_: int = Field(..., alias="from")
    to: int
    hashes: list[str]


class Cosignatures(Open):
    accepted: Any = Field(..., description="the cosignatures kept")
