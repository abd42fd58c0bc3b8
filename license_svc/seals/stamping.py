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
holding OFD.xml.  A PDF gets an approval (or certification) signature by the organisation's SM2
or RSA key with the seal bound in; an OFD gets one more GB/T 38540 seal signature
(`signing.ofd.stamp.stamp_ofd`, the same `Placement`), always SM2 — GM/T 0099 seal signatures
are SM2/SM3, as for OFD licences (docs/ofd.md) — and certification does not apply to it.
"""

from __future__ import annotations

import io
import zipfile

from sqlalchemy.orm import Session

from formats import algorithms as alg
from formats.errors import Kind, ServiceError
from license_svc.licences.resources import timestamper
from signing.ofd import SealSigner
from signing.ofd.stamp import stamp_ofd
from signing.seal.build import tsa_timestamper
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
        if certify:
            _refused(ctx, client, es_id, detail, "certify-not-for-ofd")
            raise registry.SealRegistryError(
                "certification (DocMDP) is a PDF notion; stamp the OFD without certify",
                "“认证签名”仅适用于 PDF，OFD 文档请去掉 certify")
        detail["algorithm"] = "sm2"
    cred = usable_signer(ctx, session, row.org_code, "sm2" if kind == "ofd" else algorithm)
    try:
        if kind == "ofd":
            stamped = stamp_ofd(document, seal_signer=_ofd_signer(ctx, row, cred),
                                **placement.as_kwargs(), when=ctx.now())
        else:
            stamped = _stamper(ctx, row, algorithm, cred).stamp(document, placement,
                                                                certify=certify, when=ctx.now())
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


def _ofd_signer(ctx, row, cred) -> SealSigner:
    key = (__name__, "ofd", row.es_id, cred.cert.sha256)
    return ctx.caches.get(key, lambda: SealSigner(
        row.der, cred.key, cred.cert, tsa_timestamper(timestamper(ctx, "sm2").authority)))


def _refused(ctx, client, es_id: str, detail: dict, reason: str) -> None:
    """The caller's transaction rolls back with the error; the attempt stays on record."""
    with ctx.unit_of_work() as own:
        registry.audit_hook(ctx, own, action=ACTION, client=client, seal_id=es_id,
                            outcome="invalid", reason=reason, **detail)
