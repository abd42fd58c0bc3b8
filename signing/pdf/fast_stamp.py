"""The certification signature of one of our own licence pages, written without pyHanko's
generic PDF reader and writer.

Why: `signing.render` writes every licence page the same way (one page, classic xref table, no
earlier revision, no encryption), and the revision a licence signature adds is always the same
nine objects.  pyHanko parses the page into generic objects, builds the field, widget,
appearance and signature dictionary, and serialises them again for every licence — about a
third of a stamp's time, more than the two SM2 signatures in it (docs/performance.md,
"Issuance").  Here the revision is written from byte templates: the objects pyHanko writes
for our profile (docs/pdf.md) — catalog with /Version 1.7, /LicenseSvc, /AcroForm, the ESIC
extension and /Perms /DocMDP; page with /Annots; AcroForm; signature field/widget with the seal
picture (image + soft mask, compressed once by `appearance.SealPicture`) as its appearance;
signature dictionary with the DocMDP P=1 reference — then one xref section and a trailer with
/Prev.  The CMS is the same pre-encoded SignedData (`fast_cms`).

`page_layout` accepts only a page in exactly that form; anything else (a PDF from elsewhere,
an earlier signature, an invisible signature) is signed by pyHanko as before.  The interop
tests check the result with pdfsig, pyHanko's validator, qpdf and our strict `verify_pdf`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from formats import algorithms as alg
from formats.errors import SigningError
from formats.pdf_licence import LICENCE_CODE_KEY, LICENCE_DICT_VERSION
from signing.pdf_syntax import literal_string, num, text_string

_TRAILER = re.compile(rb"trailer\s*<<(.*?)>>\s*startxref\s*(\d+)\s*%%EOF\s*\Z", re.S)
_REF = rb"\s*(\d+)\s+0\s+R"
_SIZE = re.compile(rb"/Size\s+(\d+)")
_ROOT = re.compile(rb"/Root" + _REF)
_INFO = re.compile(rb"/Info" + _REF)
_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\]")
_KIDS = re.compile(rb"/Kids\s*\[" + _REF + rb"\s*\]")
# Keys this revision adds: an input that already has one is not a fresh page of ours.
_ADDED_CATALOG = (b"/AcroForm", b"/Perms", b"/LicenseSvc", b"/Version", b"/Extensions")
_BYTE_RANGE = b"/ByteRange[0 %010d %010d %010d]"


@dataclass(frozen=True)
class PageLayout:
    size: int  # /Size of the page's xref: the first free object number
    xref_at: int
    catalog: tuple[int, bytes]  # (object number, dictionary bytes)
    page: tuple[int, bytes]
    info: int | None
    file_id: bytes


def _body(pdf: bytes, offset: int, number: int) -> bytes | None:
    head = b"%d 0 obj\n" % number
    if not pdf.startswith(head, offset):
        return None
    end = pdf.find(b"\nendobj", offset)
    body = pdf[offset + len(head):end].strip() if end > 0 else b""
    if not (body.startswith(b"<<") and body.endswith(b">>")) or b"stream" in body:
        return None
    return body


def page_layout(pdf: bytes) -> PageLayout | None:
    """Where the catalog and the one page of a freshly rendered licence page are, or None if
    `pdf` is not exactly that (then pyHanko signs it)."""
    tail = _TRAILER.search(pdf, max(0, len(pdf) - 512))
    if tail is None:
        return None
    trailer, xref_at = tail.group(1), int(tail.group(2))
    if any(k in trailer for k in (b"/Prev", b"/Encrypt", b"/XRefStm")):
        return None
    size, root, ident = _SIZE.search(trailer), _ROOT.search(trailer), _ID.search(trailer)
    if size is None or root is None or ident is None:
        return None
    size = int(size.group(1))
    head = b"xref\n0 %d\n" % size
    if not pdf.startswith(head, xref_at) or size > 10_000:
        return None
    table = xref_at + len(head)

    def offset(n: int) -> int | None:
        if not 0 < n < size:
            return None
        entry = pdf[table + 20 * n:table + 20 * n + 20]
        if len(entry) != 20 or entry[10:18] != b" 00000 n":
            return None
        return int(entry[:10])

    root_no = int(root.group(1))
    at = offset(root_no)
    catalog = _body(pdf, at, root_no) if at is not None else None
    if catalog is None or b"/Type/Catalog" not in catalog.replace(b" ", b"") \
            or any(k in catalog for k in _ADDED_CATALOG) or catalog.count(b"<<") != 1:
        return None
    pages_no = re.search(rb"/Pages" + _REF, catalog)
    at = offset(int(pages_no.group(1))) if pages_no else None
    pages = _body(pdf, at, int(pages_no.group(1))) if at is not None else None
    kids = _KIDS.search(pages) if pages is not None else None
    if kids is None or not re.search(rb"/Count\s+1\b", pages):
        return None
    page_no = int(kids.group(1))
    at = offset(page_no)
    page = _body(pdf, at, page_no) if at is not None else None
    if page is None or b"/Annots" in page or b"/Type/Page" not in page.replace(b" ", b""):
        return None
    info = _INFO.search(trailer)
    return PageLayout(size, xref_at, (root_no, catalog), (page_no, page),
                      int(info.group(1)) if info else None, bytes.fromhex(ident.group(1).decode()))


def licence_entry(licence) -> bytes:
    """`/LicenseSvc << ... >>` as `stamp.licence_dictionary` has it (docs/formats.md)."""
    ident = licence.get("id") or licence.get("identifier")
    if not ident:
        raise SigningError("licence metadata needs an identifier", "证照元数据缺少证照标识")
    out = b"/LicenseSvc<</V %d/Id " % LICENCE_DICT_VERSION + text_string(str(ident))
    if licence.get("data_hash"):
        out += b"/Hash " + text_string(str(licence["data_hash"]))
        name = str(licence.get("hash_alg", "SM3")).upper()
        if not re.fullmatch(r"[A-Z0-9\-]{1,32}", name):
            raise SigningError("unexpected hash algorithm name", "摘要算法名称不合法")
        out += b"/HashAlg/" + name.encode()
    if licence.get("version") is not None:
        out += b"/Version %d" % int(licence["version"])
    if licence.get("code"):
        out += LICENCE_CODE_KEY.encode() + b" " + text_string(str(licence["code"]))
    return out + b">>"


class Appearance:
    """The seal picture's three objects (soft mask, image, form), the same for every licence
    of one stamper; only their object numbers change."""

    def __init__(self, picture, box):
        mask_dict, self.mask = picture._mask
        colour_dict, self.colour = picture._colour
        self.width, self.height = int(mask_dict["/Width"]), int(mask_dict["/Height"])
        x1, y1, x2, y2 = box
        self.rect = ("[" + " ".join(num(round(v, 4)) for v in (x1, y1, x2, y2)) + "]").encode()
        # As pyHanko's StaticStampStyle lays it out: an integer box, picture shrunk to fit,
        # centred (ALIGN_MID), inside an opacity-1 graphics state.
        w, h = int(x2 - x1), int(y2 - y1)
        scale = min(w / self.width, h / self.height)
        dx, dy = (w - self.width * scale) / 2, (h - self.height * scale) / 2
        self.bbox = b"[0 %d %d 0]" % (h, w)
        self.content = (f"q q /BackgroundGS gs {num(round(scale, 7))} 0 0 {num(round(scale, 7))} "
                        f"{num(round(dx, 4))} {num(round(dy, 4))} cm q  {self.width} 0 0 "
                        f"{self.height} 0 0 cm /ImgSeal Do Q Q Q").encode()

    def objects(self, mask_no: int, image_no: int) -> list[bytes]:
        image = b"/Type/XObject/Subtype/Image/Width %d/Height %d/BitsPerComponent 8" % (
            self.width, self.height)
        return [
            b"<<" + image + b"/ColorSpace/DeviceGray/Filter/FlateDecode/Length %d>>stream\n"
            % len(self.mask) + self.mask + b"\nendstream",
            b"<<" + image + b"/ColorSpace/DeviceRGB/Filter/FlateDecode/SMask %d 0 R/Length %d>>"
            b"stream\n" % (mask_no, len(self.colour)) + self.colour + b"\nendstream",
            b"<</BBox" + self.bbox + b"/Resources<</ExtGState<</BackgroundGS<</CA 1/ca 1>>>>"
            b"/XObject<</ImgSeal %d 0 R>>>>/Type/XObject/Subtype/Form/Length %d>>stream\n"
            % (image_no, len(self.content)) + self.content + b"\nendstream",
        ]


def signature_time(now: datetime | None = None) -> bytes:
    """/M: the host clock in UTC, as pyHanko writes it (the authoritative time is the TSA's)."""
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).strftime("D:%Y%m%d%H%M%SZ").encode()


def prepare(pdf: bytes, layout: PageLayout, appearance: Appearance, *, field_name: str,
            reason: str | None, location: str | None, licence, reserved_hex: int):
    """The document with the new revision, /Contents zero-filled: (document, start of the hex
    digits of /Contents).  The byte range is already in place."""
    n = layout.size
    acro, widget, mask, image, form, sig = range(n, n + 6)
    cat_no, catalog = layout.catalog
    page_no, page = layout.page
    new_catalog = (catalog[:-2] + b"/Version/1.7" + (licence_entry(licence) if licence else b"")
                   + b"/AcroForm %d 0 R" % acro
                   + b"/Extensions<</ESIC<</Type/DeveloperExtensions/BaseVersion/1.7"
                     b"/ExtensionLevel 1>>>>/Perms<</DocMDP %d 0 R>>>>" % sig)
    new_page = page[:-2] + b"/Annots[%d 0 R]>>" % widget
    sig_dict = (b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/M"
                + literal_string(signature_time().decode())
                + (b"/Location" + text_string(location) if location else b"")
                + (b"/Reason" + text_string(reason) if reason else b"")
                + b"/Reference[<</Type/SigRef/TransformMethod/DocMDP/TransformParams"
                  b"<</Type/TransformParams/V/1.2/P 1>>>>]"
                + _BYTE_RANGE % (0, 0, 0) + b"/Contents<" + b"0" * reserved_hex + b">>>")
    objects = [
        (cat_no, new_catalog),
        (page_no, new_page),
        (acro, b"<</Fields[%d 0 R]/SigFlags 3>>" % widget),
        (widget, b"<</FT/Sig/T" + literal_string(field_name) + b"/Type/Annot/Subtype/Widget/F 132/Rect"
         + appearance.rect + b"/P %d 0 R/AP<</N %d 0 R>>/V %d 0 R>>" % (page_no, form, sig)),
        *zip((mask, image, form), appearance.objects(mask, image)),
        (sig, sig_dict),
    ]
    out = [pdf if pdf.endswith(b"\n") else pdf + b"\n"]
    pos = len(out[0])
    offsets = {}
    for number, body in objects:
        chunk = b"%d 0 obj\n" % number + body + b"\nendobj\n"
        offsets[number] = pos
        out.append(chunk)
        pos += len(chunk)
    xref = [b"xref\n0 1\n0000000000 65535 f \n"]
    for number in (cat_no, page_no):
        xref.append(b"%d 1\n%010d 00000 n \n" % (number, offsets[number]))
    xref.append(b"%d 6\n" % acro + b"".join(b"%010d 00000 n \n" % offsets[i] for i in range(acro, sig + 1)))
    new_id = secrets.token_bytes(16)  # the revision's own ID, random as pyHanko's
    trailer = (b"trailer\n<</Size %d/Root %d 0 R" % (sig + 1, cat_no)
               + (b"/Info %d 0 R" % layout.info if layout.info is not None else b"")
               + b"/ID[<%s><%s>]/Prev %d>>\nstartxref\n%d\n%%%%EOF\n"
               % (layout.file_id.hex().encode(), new_id.hex().encode(), layout.xref_at, pos))
    out.extend(xref)
    out.append(trailer)
    doc = bytearray(b"".join(out))
    sig_at = offsets[sig]
    contents = doc.index(b"/Contents<", sig_at) + len(b"/Contents")
    hole_end = contents + reserved_hex + 2
    ranges = doc.index(b"/ByteRange[", sig_at)
    doc[ranges:ranges + len(_BYTE_RANGE % (0, 0, 0))] = _BYTE_RANGE % (contents, hole_end, len(doc) - hole_end)
    return doc, contents + 1


def digest(doc: bytearray, hex_start: int, reserved_hex: int, md: str) -> bytes:
    """The digest of everything but the /Contents hex string (the byte range)."""
    view = memoryview(doc)
    return alg.digest(md, bytes(view[:hex_start - 1]) + bytes(view[hex_start + reserved_hex + 1:]))


def fill(doc: bytearray, hex_start: int, reserved_hex: int, cms_der: bytes) -> bytes:
    value = cms_der.hex().upper().encode()
    if len(value) > reserved_hex:
        raise SigningError("the signature is larger than the space reserved for it",
                           "签名数据超过预留空间")
    doc[hex_start:hex_start + len(value)] = value
    return bytes(doc)
