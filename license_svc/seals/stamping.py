"""电子签章 for a department's own document: the organisation's seal stamped visibly into its
notice, approval decision or 告知书, with a signature (issue 18 item 2).

Who may: the seal's organisation's own clients, not narrowed to licence types — the same rule
as `POST /seals/{id}/sign` (`registry.usable_seal`, `auth.policy.may_stamp_with`); the seal must
be active and the organisation's signing key usable (`licences.signer_check`).  Every stamp is
an audit entry `seal.stamp` with the SM3 of the document received and of the document returned,
so either copy can later be matched to the act; a refusal on the document's own state (a
certified "no changes" PDF, an unreadable file, a keyword that is not there) is audited too,
in a transaction of its own.

Dispatch by content, not by name or Content-Type: a PDF by its `%PDF-` header, an OFD by a zip
holding OFD.xml.  The OFD half (`signing.ofd.stamp.stamp_ofd`, same `Placement` keywords) is
wired in after it lands; until then an OFD is answered with `OfdStampingUnavailable`.
"""

from __future__ import annotations

import io
import zipfile

from sqlalchemy.orm import Session

from formats import algorithms as alg
from formats.errors import Kind, ServiceError
from license_svc.licences.resources import timestamper
from license_svc.licences.signer_check import usable_signer
from license_svc.seals import registry
from signing.pdf.stamp_document import DocumentStamper, is_pdf
from signing.placement import Placement

ACTION = "seal.stamp"
ALGORITHMS = ("sm2", "rsa")


class DocumentTypeUnsupported(ServiceError):
    """Neither a PDF nor an OFD: the route answers 415."""

    code = "document-type-unsupported"
    kind = Kind.INVALID


class OfdStampingUnavailable(DocumentTypeUnsupported):
    code = "ofd-stamping-unavailable"


def document_type(data: bytes) -> str:
    if is_pdf(data):
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "OFD.xml" in z.namelist():
                    return "ofd"
        except (zipfile.BadZipFile, ValueError, OSError):
            pass
    raise DocumentTypeUnsupported("the document is neither a PDF (%PDF- header) nor an OFD "
                                  "(zip with OFD.xml)",
                                  "文档既不是 PDF（%PDF- 文件头）也不是 OFD（含 OFD.xml 的压缩包）")


def stamp_document(ctx, session: Session, client, es_id: str, document: bytes,
                   placement: Placement, *, algorithm: str = "sm2",
                   certify: bool = False) -> bytes:
    """The stamped document (same format as given), audited in the caller's transaction."""
    if algorithm not in ALGORITHMS:
        raise registry.SealRegistryError(f"algorithm must be one of {ALGORITHMS}",
                                         f"算法须为 {ALGORITHMS} 之一")
    row = registry.usable_seal(ctx, session, client, es_id, action=ACTION)
    kind = document_type(document)
    detail = {"format": kind, "algorithm": algorithm, "placement": placement.mode,
              "certify": certify, "document_sm3": alg.sm3(document).hex()}
    if placement.page is not None:
        detail["page"] = placement.page
    if kind == "ofd":
        _refused(ctx, client, es_id, detail, "ofd-not-available")
        raise OfdStampingUnavailable("stamping OFD documents is not available on this node yet; "
                                     "send the PDF", "本节点暂不支持 OFD 文档签章，请提交 PDF 文档")
    cred = usable_signer(ctx, session, row.org_code, algorithm)
    stamper = _stamper(ctx, row, algorithm, cred)
    try:
        stamped = stamper.stamp(document, placement, certify=certify, when=ctx.now())
    except ServiceError as exc:
        _refused(ctx, client, es_id, detail, exc.code)
        raise
    registry.audit_hook(ctx, session, action=ACTION, client=client, seal_id=es_id,
                        stamped_sm3=alg.sm3(stamped).hex(), **detail)
    return stamped


def _stamper(ctx, row, algorithm: str, cred) -> DocumentStamper:
    """One stamper per (seal, algorithm, certificate), kept in the context's caches: building
    one (key check, seal parse, picture compression) costs more than a stamp."""
    key = (__name__, row.es_id, algorithm, cred.cert.sha256)
    return ctx.caches.get(key, lambda: DocumentStamper(cred, row.der,
                                                       timestamper=timestamper(ctx, algorithm)))


def _refused(ctx, client, es_id: str, detail: dict, reason: str) -> None:
    """The caller's transaction rolls back with the error; the attempt stays on record."""
    with ctx.unit_of_work() as own:
        registry.audit_hook(ctx, own, action=ACTION, client=client, seal_id=es_id,
                            outcome="invalid", reason=reason, **detail)
