"""电子签章 on a department's own PDF (a notice, an approval decision, a 告知书): one signature
with the seal picture as its visible appearance, added as an incremental update so every
earlier signature stays valid — several organisations can stamp the same document in turn.

The signature is the licence profile (docs/pdf.md) without what only a licence has: CAdES
detached (ETSI.CAdES.detached), the organisation's SM2 or RSA key through `HeldKeySigner`, the
GB/T 38540 SESeal as a signed attribute (`seal_attribute`), a region-TSA signature timestamp,
the picture through `appearance.SealPicture`.  An approval signature by default; a
certification signature (DocMDP P=2: later signatures and form filling allowed) on request,
only as the document's first signature.  A document already certified with P=1 ("no changes")
is refused: any stamp would break that certification.

Why pyHanko's low-level `PdfCMSEmbedder` and not `PdfSigner` (as `stamp.LicenceStamper` uses):
a 骑缝章 is one signature shown on every page, i.e. one signature field with one widget per
page, each showing its slice of the seal, and `PdfSigner` draws exactly one widget.  pyHanko's
own diff analysis accepts a new signature field with several widgets (its
`SigFieldCreationRule` walks all /Kids), so later signatures' checks are unaffected.
"""

from __future__ import annotations

import io
import threading
from datetime import datetime, timezone

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.signers.cms_embedder import (PdfCMSEmbedder, SigIOSetup, SigMDPSetup,
                                               SigObjSetup)
from pyhanko.sign.signers.pdf_byterange import SignatureObject

from formats.errors import Kind, ServiceError, SigningError
from signing.pdf.appearance import SealPicture
from signing.pdf.held_key import HeldKeySigner
from signing.pdf.stamp import MAX_PDF_BYTES, _reserve, _run
from signing.pdf.text_position import find_text
from signing.placement import (Box, Placement, PlacementError, box_at, box_centred,
                               seal_size, straddle_boxes)

FIELD_PREFIX = "Seal"
# Widget flags: print (4) + locked (128), as pyHanko writes for a visible signature.
WIDGET_FLAGS = 132
REASON = "电子签章 / electronic seal"


class StampRefused(SigningError):
    """The document's state forbids another signature (certified "no changes", encrypted)."""

    code = "stamp-refused"
    kind = Kind.CONFLICT
    title_zh = "该文档不能再盖章"
    title_en = "This document cannot be stamped"


class DocumentStamper:
    """Stamps documents with one organisation's credential and one seal; safe to share between
    threads (the picture's per-writer image cache is guarded by a lock)."""

    def __init__(self, credential, seal_der: bytes, *, timestamper=None):
        from signing.seal import SealCredential

        chain = list(getattr(credential, "chain", ()) or ())
        self.signer = HeldKeySigner(credential.key, credential.cert, chain, seal=seal_der)
        self.md = self.signer.spec.digest_name
        seal = SealCredential.from_der(seal_der)
        if seal.picture_type.upper() != "PNG":
            raise SigningError(f"the seal's picture is {seal.picture_type}, only PNG is drawn",
                               f"印章图片为 {seal.picture_type} 格式，只能绘制 PNG")
        self.picture = SealPicture(seal.picture)
        self.seal_mm = (seal.width_mm, seal.height_mm)
        self.timestamper = timestamper
        self.location = getattr(credential, "region", None)
        self.bytes_reserved = _reserve(credential.cert, chain, seal_der, timestamper)
        self._lock = threading.Lock()

    def stamp(self, pdf: bytes, placement: Placement, *, certify: bool = False,
              when: datetime | None = None, reason: str = REASON) -> bytes:
        return _run(self.async_stamp(pdf, placement, certify=certify, when=when, reason=reason))

    async def async_stamp(self, pdf: bytes, placement: Placement, *, certify: bool = False,
                          when: datetime | None = None, reason: str = REASON) -> bytes:
        when = when or datetime.now(timezone.utc)
        try:
            embedder, prepared, output = self._prepare(pdf, placement, certify, when, reason)
        except ServiceError:
            raise
        except Exception as exc:  # pyHanko reads objects lazily: damage surfaces anywhere here
            raise SigningError(f"cannot read the PDF: {type(exc).__name__}: {str(exc)[:200]}",
                               "无法读取 PDF 文件（文件已损坏或不符合规范）") from None
        cms = await self.signer.async_sign(prepared.document_digest, self.md, use_pades=True,
                                           timestamper=self.timestamper)
        embedder.send(cms)
        return output.getvalue()


    def _prepare(self, pdf: bytes, placement: Placement, certify: bool, when: datetime,
                 reason: str):
        """The new revision written out with room for the CMS, and its digest."""
        writer = open_pdf(pdf)
        check_may_sign(writer, certify)
        size = seal_size(self.seal_mm, placement.size_mm)
        widgets = _widgets(writer, pdf, placement, size)
        with self._lock:
            name = _free_field_name(writer)
            self.picture.set_writer(writer)
            _add_field(writer, name, widgets, self.picture.image_ref, size)
            embedder = PdfCMSEmbedder().write_cms(field_name=name, writer=writer,
                                                  existing_fields_only=True)
            next(embedder)
            sig_obj = SignatureObject(bytes_reserved=self.bytes_reserved, timestamp=when,
                                      subfilter=SigSeedSubFilter.PADES, reason=reason,
                                      location=self.location)
            embedder.send(SigObjSetup(sig_placeholder=sig_obj, mdp_setup=SigMDPSetup(
                md_algorithm=self.md, certify=certify,
                docmdp_perms=MDPPerm.NO_CHANGES if certify else None)))
            prepared, output = embedder.send(SigIOSetup(md_algorithm=self.md,
                                                        output=io.BytesIO()))
        return embedder, prepared, output


def is_pdf(data: bytes) -> bool:
    """PDF 1.7 §7.5.2 lets the header start within the first 1024 bytes."""
    return b"%PDF-" in data[:1024]


def open_pdf(pdf: bytes) -> IncrementalPdfFileWriter:
    if not pdf or len(pdf) > MAX_PDF_BYTES:
        raise SigningError("PDF missing or larger than 50 MiB", "PDF 缺失或超过 50 MiB")
    if not is_pdf(pdf):
        raise SigningError("not a PDF (no %PDF- header)", "不是 PDF 文件（缺少 %PDF- 文件头）")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        pages = int(writer.root["/Pages"]["/Count"])
    except Exception as exc:
        raise SigningError(f"cannot read the PDF: {type(exc).__name__}: {str(exc)[:200]}",
                           "无法读取 PDF 文件") from None
    if writer.security_handler is not None:
        raise StampRefused("the PDF is encrypted; stamp the unencrypted document",
                           "PDF 已加密，请对未加密的文档盖章")
    if pages < 1:
        raise SigningError("the PDF has no pages", "PDF 没有页面")
    return writer


def check_may_sign(writer: IncrementalPdfFileWriter, certify: bool) -> None:
    """Refuse what would break or contradict an earlier signature: a certification with
    DocMDP P=1 forbids every change, and a certification signature must be the first."""
    level = docmdp_level(writer)
    if level == 1:
        raise StampRefused(
            "the document is certified with \"no changes allowed\" (DocMDP P=1); any further "
            "signature would invalidate that certification",
            "该文档已被认证签名为“不允许任何更改”（DocMDP P=1），再盖章会使原认证失效")
    if level is not None:
        raise StampRefused(
            f"the document is certified (DocMDP P={level}); a new visible signature after a "
            "certification counts as a disallowed change (ISO 32000-2 12.8.2.2, as pyHanko and "
            "our verifier judge it)",
            f"该文档已被认证签名（DocMDP P={level}），认证后新增可见签章属于不允许的更改")
    if certify and _filled_signatures(writer):
        raise StampRefused("a certification signature must be the document's first signature",
                           "认证签名只能是文档的第一个签名")


def docmdp_level(writer) -> int | None:
    """The P value of the document's certification signature, or None when uncertified."""
    try:
        perms = writer.root.get("/Perms")
        sig = perms.get("/DocMDP") if perms is not None else None
        if sig is None:
            return None
        for ref in sig.get_object().get("/Reference", ()):
            ref = ref.get_object()
            if ref.get("/TransformMethod") == "/DocMDP":
                params = ref.get("/TransformParams")
                return int(params.get("/P", 2)) if params is not None else 2
        return 2
    except Exception:
        raise SigningError("the document's certification (/Perms /DocMDP) cannot be read",
                           "无法读取文档的认证签名权限（/Perms /DocMDP）") from None


def _filled_signatures(writer) -> int:
    return sum(1 for _name, value, _ref in enumerate_sig_fields(writer) if value is not None)


def _free_field_name(writer) -> str:
    taken = {name for name, _value, _ref in enumerate_sig_fields(writer)}
    n = len(taken) + 1
    while f"{FIELD_PREFIX}{n}" in taken:
        n += 1
    return f"{FIELD_PREFIX}{n}"


def page_box(writer, index: int) -> tuple[generic.IndirectObject, Box]:
    """The page's reference and its visible box (CropBox, else MediaBox, inherited)."""
    page_ref = writer.find_page_for_modification(index)[0]
    page = page_ref.get_object()
    rotate = _inherited(page, "/Rotate")
    if rotate is not None and int(rotate) % 360:
        raise PlacementError(f"page {index + 1} is rotated; seals are placed on upright pages only",
                             f"第 {index + 1} 页经过旋转，只能在未旋转的页面上盖章")
    box = _inherited(page, "/CropBox") or _inherited(page, "/MediaBox")
    if box is None or len(box) != 4:
        raise SigningError(f"page {index + 1} has no MediaBox", f"第 {index + 1} 页没有 MediaBox")
    x1, y1, x2, y2 = (float(v) for v in box)
    return page_ref, (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


def _inherited(page, key: str):
    node, depth = page, 0
    while node is not None and depth < 64:
        if key in node:
            return node[key]
        parent = node.get("/Parent")
        node, depth = (parent.get_object() if parent is not None else None), depth + 1
    return None


def _widgets(writer, pdf: bytes, placement: Placement, size) -> list[tuple]:
    """(page reference, rectangle, slice index, slices) of each widget the stamp shows."""
    count = int(writer.root["/Pages"]["/Count"])
    if placement.straddle:
        pages = [page_box(writer, i) for i in range(count)]
        boxes = straddle_boxes([b for _, b in pages], size, placement.y_mm)
        return [(ref, box, i, count) for i, ((ref, _), box) in enumerate(zip(pages, boxes))]
    if placement.keyword:
        index, found = find_text(pdf, placement.keyword)
        ref, page = page_box(writer, index)
        centre = ((found[0] + found[2]) / 2, (found[1] + found[3]) / 2)
        return [(ref, box_centred(page, centre, size), 0, 1)]
    number, x_mm, y_mm = placement.page, placement.x_mm, placement.y_mm
    if number is None or x_mm is None or y_mm is None:  # Placement's own check makes this one
        raise PlacementError("give page, x and y", "请给出页码和坐标")
    if number > count:
        raise PlacementError(f"the document has {count} page(s), not {number}",
                             f"文档只有 {count} 页，没有第 {number} 页")
    ref, page = page_box(writer, number - 1)
    return [(ref, box_at(page, x_mm, y_mm, size), 0, 1)]


def _add_field(writer, name: str, widgets, image, size) -> None:
    """A signature field whose /Kids are the widgets, each with its slice of the picture.

    The widgets carry no /Parent (as pyHanko writes its own): with one, poppler 22.12 reports
    the field as unsigned; the field's /Kids alone is what pyHanko, qpdf and poppler follow."""
    field = generic.DictionaryObject({pdf_name("/FT"): pdf_name("/Sig"),
                                      pdf_name("/T"): pdf_string(name),
                                      pdf_name("/Kids"): generic.ArrayObject()})
    field_ref = writer.add_object(field)
    for page_ref, box, index, slices in widgets:
        appearance = writer.add_object(_appearance(image, size, box, index, slices))
        widget = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/F"): generic.NumberObject(WIDGET_FLAGS),
            pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(round(v, 3)) for v in box),
            pdf_name("/P"): page_ref,
            pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): appearance}),
        })
        widget_ref = writer.add_object(widget)
        field["/Kids"].append(widget_ref)
        writer.register_annotation(page_ref, widget_ref)
    root = writer.root
    if "/AcroForm" not in root:
        root[pdf_name("/AcroForm")] = writer.add_object(generic.DictionaryObject(
            {pdf_name("/Fields"): generic.ArrayObject([field_ref])}))
        writer.update_root()
        return
    form = root["/AcroForm"]
    if "/Fields" not in form:
        form[pdf_name("/Fields")] = generic.ArrayObject([field_ref])
        writer.update_container(form)
        return
    form["/Fields"].append(field_ref)
    writer.update_container(form["/Fields"])


def _appearance(image, size, box, index: int, slices: int) -> generic.StreamObject:
    """A form XObject drawing the whole picture shifted left by `index` slices; its BBox (the
    widget's size) clips it to that slice."""
    w, h = size
    bw, bh = box[2] - box[0], box[3] - box[1]
    ops = f"q {w:.3f} 0 0 {h:.3f} {-index * w / slices:.3f} 0 cm /Seal Do Q".encode()
    return generic.StreamObject({
        pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
        pdf_name("/BBox"): generic.ArrayObject(generic.FloatObject(round(v, 3))
                                               for v in (0, 0, bw, bh)),
        pdf_name("/Resources"): generic.DictionaryObject({pdf_name("/XObject"): generic.DictionaryObject(
            {pdf_name("/Seal"): image})}),
    }, stream_data=ops)
