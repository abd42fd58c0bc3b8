"""`POST /api/v1/verify`: verify a licence PDF, an OFD document, a seal file, a QR picture or a
scanned QR text, online (live status, EP1 replay refused, audited).  A thin adapter over
`license_svc.verify_service.verify_online`.

    multipart/form-data  file=<PDF | OFD | .esl | .dat | PNG/JPEG with a QR>
    application/json     {"qr": "EL1:..."}  or  {"ses": "<base64 of an .esl/.dat>"}
    other content types  the raw bytes of a file
    ?at=ISO-TIME         judge files as of then (QR codes are always judged as of now)
    Accept: text/html    the report as a Chinese HTML page instead of JSON
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse

from license_svc.auth.clients import Client
from license_svc.web.auth import get_ctx, require_role
from license_svc.context import AppContext
from license_svc.verify_service import verify_online
from license_svc.web.metrics import outcome_metrics
from license_svc.web.problems import ProblemError
from license_svc.web.schemas import verify as schemas
from verification.dispatch import MAX_TEXT
from verification.html import to_html

router = APIRouter(prefix="/api/v1", tags=["验证 verification"])
VERIFY_ROLES = ("relying", "auditor", "admin", "citizen")



def _bad(detail: str) -> ProblemError:
    return ProblemError.core("bad-request", detail)


async def _read(request: Request) -> tuple[bool, bytes]:
    """(is JSON, bytes): the uploaded file of a multipart form, else the body."""
    ctype = request.headers.get("content-type", "").lower()
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise _bad("multipart field `file` is required / 缺少 multipart 字段 file")
        return False, await upload.read()
    return ctype.startswith("application/json"), await request.body()


def _input(is_json: bool, body: bytes) -> tuple[bytes | None, str | None]:
    """(file bytes, QR text) from the three request shapes."""
    if not is_json:
        return body, None
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _bad("the body is not valid JSON / 请求体不是合法的 JSON") from None
    if not isinstance(doc, dict) or len({"qr", "ses"} & set(doc)) != 1:
        raise _bad('send exactly one of {"qr": text} or {"ses": base64} / 须提供 qr 或 ses 之一')
    if "qr" in doc:
        if not isinstance(doc["qr"], str) or not doc["qr"] or len(doc["qr"]) > MAX_TEXT:
            raise _bad("qr must be a non-empty string of at most 16 KiB / qr 须为非空字符串")
        return None, doc["qr"]
    try:
        return base64.b64decode(doc["ses"], validate=True), None
    except (TypeError, ValueError, binascii.Error):
        raise _bad("ses must be base64 / ses 须为 base64") from None


@router.post("/verify", summary="验证电子证照、印章或二维码 / verify a licence PDF, OFD, seal or QR",
             responses={**schemas.RESPONSES,
                        422: {"description": "unreadable input / 无法识别的输入"}},
             openapi_extra=schemas.REQUEST)
async def verify(request: Request, at: datetime | None = Query(None),
                 ctx: AppContext = Depends(get_ctx),
                 client: Client = Depends(require_role(*VERIFY_ROLES))):
    if at is not None and at.tzinfo is None:
        raise _bad("`at` needs a time zone (e.g. Z)")
    is_json, body = await _read(request)
    return await run_in_threadpool(_verify, ctx, client, is_json, body, at,
                                   "text/html" in request.headers.get("accept", ""))


def _verify(ctx: AppContext, client: Client, is_json: bool, body: bytes, at: datetime | None,
            html: bool):
    data, text = _input(is_json, body)
    if text is None and not data:
        raise _bad("nothing to verify: empty body / 请求体为空")
    report = verify_online(ctx, client, data, text=text, at=at)
    outcome_metrics(ctx).verification(report)
    if html:
        return HTMLResponse(to_html(report, generated_at=ctx.now()))
    return JSONResponse(report.as_dict())
