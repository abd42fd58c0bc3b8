"""Shapes several route modules share: the open base model, the problem body, a signed
envelope, the verification report."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    """Extra members allowed: the documented ones are the contract, and work in progress elsewhere
    (a report's `verdict`, new sign-in fields) adds members a client must be free to ignore."""

    model_config = ConfigDict(extra="allow")


class Problem(Open):
    """RFC 9457 problem details (docs/api.md "Errors"): switch on `type`, never on the titles."""

    type: str = Field(..., examples=["urn:license-svc:problem:forbidden"],
                      description="urn:license-svc:problem:<slug>")
    title: str = Field(..., examples=["无权执行此操作 / Forbidden"])
    title_zh: str
    title_en: str
    status: int
    detail: str | None = Field(None, description="this occurrence (English or bilingual)")
    detail_zh: str | None = None
    request_id: str | None = None


class Signature(Open):
    alg: str = Field(..., examples=["SM2-SM3"])
    cert: str = Field(..., description="base64 DER of the signing certificate")
    value: str = Field(..., description="base64 signature value")


class SignedEnvelope(Open):
    """A signed JSON envelope (docs/formats.md "Signed envelope"): the payload is canonical JSON,
    the signature covers it."""

    payload: dict[str, Any]
    signature: Signature


class Check(Open):
    name: str = Field(..., examples=["el1.signature"])
    title_zh: str = Field(..., examples=["证照码签名值"])
    passed: bool
    detail: str | None = None


class Report(Open):
    """A verification report (docs/verification.md): clients switch on `indication` (ETSI EN
    319 102-1) — or on `verdict`, where the service gives one."""

    verdict: str | None = Field(None, examples=["valid"], description="for people: valid | "
                                "invalid | suspended | revoked | expired | undetermined")
    verdict_text: str | None = Field(None, description="one Chinese sentence a clerk can act on")
    about: dict[str, Any] | None = Field(None, description="whose licence and what it is: type, "
                                         "number, masked holder, issuer, region, validity")
    indication: str = Field(..., examples=["TOTAL_PASSED"],
                            description="TOTAL_PASSED | TOTAL_FAILED | INDETERMINATE")
    sub_indication: str | None = None
    subject: str = Field(..., examples=["qr-el1"])
    checks: list[Check]
    licence: dict[str, Any] = {}
    signer: dict[str, Any] = {}
    seal: dict[str, Any] = {}
    notes: list[Any] = []
