"""`POST /api/v1/verify`: three ways to send what is to be verified, one report back."""

from __future__ import annotations

from pydantic import Field

from license_svc.web.schemas.common import Open, Report
from license_svc.web.schemas.openapi import BINARY, body, ok
from verification.checks import QrCheck, StatusCheck


class VerifyText(Open):
    """Exactly one of `qr` and `ses`."""

    qr: str | None = Field(None, max_length=16384, examples=["EL1:NCFOXNMG2FDH…"],
                           description="a scanned QR text (EL1:…, EP1:… or EP2:…)")
    ses: str | None = Field(None, description="base64 of an .esl (SESeal) or .dat (SES_Signature)")


class VerifyUpload(Open):
    file: bytes = Field(..., json_schema_extra={"format": "binary"},
                        description="PDF, OFD, .esl/.dat, or a PNG/JPEG/GIF/BMP/WebP with a QR")


REQUEST = body({"multipart/form-data": VerifyUpload, "application/json": VerifyText,
                "application/octet-stream": BINARY},
               description="the input's kind is detected from its content, never from a name "
                           "or a content type; any other content type: the raw file bytes",
               examples={"application/json": {"qr": "EL1:…"}})

EXAMPLE = {
    "verdict": "valid", "verdict_text": "有效。电子证照真实、未被篡改，状态有效，可以受理。",
    "about": {"type_name": "营业执照", "number": "SH2026…", "holder": "上海示例科技有限公司",
              "issuer_name": "上海市市场监督管理局", "region": "sh", "region_name": "上海",
              "validity": "2026-01-15 至 长期", "status": "active", "status_name": "有效"},
    "indication": "TOTAL_PASSED", "sub_indication": None, "subject": "qr-el1",
    "checks": [{"name": c.value, "title_zh": c.zh, "passed": True, "detail": detail} for c, detail in (
        (QrCheck.EL1_FORMAT, "EL1 COSE_Sign1"), (QrCheck.EL1_SIGNATURE, "SM2-SM3"),
        (StatusCheck.LICENCE, "证照状态：有效 / licence status: active"))],
    "licence": {"id": "1.2.156.3005.2.…", "t": "…", "status": "active"},
    "signer": {"org_name": "上海市市场监督管理局", "region": "sh"}, "seal": {}, "notes": [],
}

_JSON = ok(Report, example=EXAMPLE)[200]["content"]
RESPONSES = {200: {"description": "the report, for every verdict (TOTAL_FAILED too); "
                                  "`Accept: text/html`: a Chinese HTML page",
                   "content": {**_JSON, "text/html": {"schema": {"type": "string"}}}}}
