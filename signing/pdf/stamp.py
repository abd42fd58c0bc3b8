"""Stamp a rendered licence PDF: one certification signature (DocMDP P=1) whose appearance is
the seal picture.

Profile (docs/pdf.md):
- SubFilter `ETSI.CAdES.detached`, certification signature, DocMDP P=1 (no changes allowed);
- RSA: sha256WithRSA + an RFC 3161 signature timestamp from the region TSA (PAdES B-T);
- SM2: SM3 digest, SM2-with-SM3 signature, the GB/T 38540 SESeal as a signed attribute, and an
  SM2 timestamp when a TSA is given;
- the licence identifier and data hash in a `/LicenseSvc` catalog dictionary written in the same
  revision as the signature, so the signature covers it (docs/formats.md).

Everything that does not change between licences (key, certificate chain, seal attribute,
compressed seal picture, size of /Contents) lives in a `LicenceStamper` built once per
credential and seal; per licence we add one revision and sign once — written directly for the
pages `signing.render` makes (`fast_stamp`), through pyHanko for any other PDF.
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
from collections import OrderedDict
from typing import Mapping

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner

from formats.der import encoded_size
from formats.errors import SigningError
from formats.pdf_licence import LICENCE_CODE_KEY, LICENCE_DICT_KEY, LICENCE_DICT_VERSION
from signing.pdf import fast_stamp
from signing.pdf.appearance import seal_stamp_style
from signing.pdf.held_key import HeldKeySigner
from signing.pdf.seal_attribute import seal_der

FIELD_NAME = "LicenceSeal"
# A4 is 595 x 842 pt; a 42 mm official seal at the lower right, above the footer.
DEFAULT_SEAL_BOX = (380, 90, 500, 210)
MAX_PDF_BYTES = 50 * 1024 * 1024


class LicenceStamper:
    """Signs many licences with one credential and one seal; safe to share between threads
    (pyHanko signing state is per call; the held objects are read-only)."""

    def __init__(self, credential, seal=None, seal_png: bytes | None = None,
                 seal_box=DEFAULT_SEAL_BOX, timestamper=None):
        algorithm = getattr(credential, "algorithm", None) or credential.key.algorithm
        chain = list(getattr(credential, "chain", ()) or ())
        der = seal_der(seal) if seal is not None else None
        if algorithm != credential.key.algorithm:
            raise SigningError(f"the credential says {algorithm!r} but holds a "
                               f"{credential.key.algorithm!r} key",
                               f"证书算法 {algorithm!r} 与私钥算法 {credential.key.algorithm!r} 不符")
        self.signer = HeldKeySigner(credential.key, credential.cert, chain, seal=der)
        self.md = self.signer.spec.digest_name
        if seal_png is None and der is not None:
            seal_png = _picture_from_seal(der)
        self.algorithm = algorithm
        self.timestamper = timestamper
        self.seal_box = tuple(seal_box) if seal_box is not None else None
        self.style = seal_stamp_style(seal_png) if seal_png is not None else None
        self.bytes_reserved = _reserve(credential.cert, chain, der, timestamper)
        self.meta = PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm=self.md,
            subfilter=SigSeedSubFilter.PADES,
            certify=True,
            docmdp_permissions=MDPPerm.NO_CHANGES,
            reason="电子证照签发 / licence issuance",
            location=getattr(credential, "region", None),
        )
        self._lock = threading.Lock()  # the stamp style's image cache is per writer
        self._fitted = False
        # Our own rendered pages get their signature revision written directly (fast_stamp).
        self._appearance = (fast_stamp.Appearance(self.style.background, self.seal_box)
                            if self.style is not None and self.seal_box is not None else None)

    def sign(self, pdf_bytes: bytes, licence: Mapping | None = None) -> bytes:
        return _run(self.async_sign(pdf_bytes, licence))

    async def async_sign(self, pdf_bytes: bytes, licence: Mapping | None = None) -> bytes:
        if not pdf_bytes or len(pdf_bytes) > MAX_PDF_BYTES:
            raise SigningError("PDF missing or larger than 50 MiB", "PDF 缺失或超过 50 MiB")
        layout = fast_stamp.page_layout(pdf_bytes) if self._appearance is not None else None
        if layout is not None:
            return await self._sign_our_page(pdf_bytes, layout, licence)
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=True)
        except Exception as exc:
            raise SigningError(f"cannot read the licence PDF: {exc}", "无法读取证照 PDF") from None
        if licence:
            writer.root[pdf_name(LICENCE_DICT_KEY)] = licence_dictionary(licence)
            writer.update_root()
        field = SigFieldSpec(FIELD_NAME, on_page=-1,
                             box=self.seal_box if self.style is not None else None)
        pdf_signer = PdfSigner(self.meta, self.signer, timestamper=self.timestamper,
                               stamp_style=self.style, new_field_spec=field)
        out = io.BytesIO()
        with self._lock:
            await pdf_signer.async_sign_pdf(writer, output=out, bytes_reserved=self.bytes_reserved)
            signed = out.getvalue()
            self._fit_reservation(signed)
        return signed

    async def _sign_our_page(self, pdf_bytes: bytes, layout, licence: Mapping | None) -> bytes:
        """The same revision pyHanko would add, written from templates (`fast_stamp`)."""
        reserved = self.bytes_reserved
        doc, at = fast_stamp.prepare(pdf_bytes, layout, self._appearance, field_name=FIELD_NAME,
                                     reason=self.meta.reason, location=self.meta.location,
                                     licence=licence, reserved_hex=reserved)
        digest = fast_stamp.digest(doc, at, reserved, self.md)
        cms = await self.signer.async_sign(digest, self.md, use_pades=True,
                                           timestamper=self.timestamper)
        signed = fast_stamp.fill(doc, at, reserved, cms.dump())
        self._fit_reservation(signed)
        return signed

    def _fit_reservation(self, signed: bytes) -> None:
        """After the first signature, shrink /Contents to what this stamper really needs plus
        a margin for the few bytes that vary (DER integers, timestamp serial, nonce).  Every
        verifier parses the whole hex string, so padding costs each verification time."""
        if self._fitted:
            return
        found = list(_CONTENTS.finditer(signed))
        if not found:
            return
        m = found[-1]  # our signature dictionary is in the last revision
        used = encoded_size(bytes.fromhex(m.group(1)[:16].decode()))
        if used:
            self.bytes_reserved = min(self.bytes_reserved, 2 * (used + 256))
            self._fitted = True


_CONTENTS = re.compile(rb"/Contents\s*<([0-9A-Fa-f]{16})")


def licence_dictionary(licence: Mapping) -> generic.DictionaryObject:
    """`/LicenseSvc << /V 1 /Id (identifier) /Hash (hex) /HashAlg /SM3 /Version n /Code (EL1) >>`
    (docs/formats.md)."""
    ident = licence.get("id") or licence.get("identifier")
    if not ident:
        raise SigningError("licence metadata needs an identifier", "证照元数据缺少证照标识")
    d = generic.DictionaryObject({
        pdf_name("/V"): generic.NumberObject(LICENCE_DICT_VERSION),
        pdf_name("/Id"): pdf_string(str(ident)),
    })
    if licence.get("data_hash"):
        d[pdf_name("/Hash")] = pdf_string(str(licence["data_hash"]))
        d[pdf_name("/HashAlg")] = pdf_name("/" + str(licence.get("hash_alg", "SM3")).upper())
    if licence.get("version") is not None:
        d[pdf_name("/Version")] = generic.NumberObject(int(licence["version"]))
    if licence.get("code"):
        d[pdf_name(LICENCE_CODE_KEY)] = pdf_string(str(licence["code"]))
    return d


def _reserve(cert, chain, der, timestamper) -> int:
    """Hex digits for the CMS in /Contents (pyHanko wants twice the DER size), so pyHanko skips
    its dry-run signature: certificates + seal + signed attributes/SignerInfo overhead + a
    timestamp token with its certificates."""
    size = len(cert.dump()) + sum(len(c.dump()) for c in chain) + 2048
    if der is not None:
        size += len(der) + 64
    if timestamper is not None:
        authority = getattr(timestamper, "authority", None)
        certs = [authority.cert, *authority.chain] if authority is not None else []
        size += 2048 + sum(len(c.dump()) for c in certs) + (0 if certs else 6144)
    return 2 * size


def _picture_from_seal(der: bytes) -> bytes | None:
    """The seal's own picture (docs/seals.md), as the seal module reads it."""
    from signing.seal import SealCredential

    cred = SealCredential.from_der(der)
    return cred.picture if cred.picture_type.upper() == "PNG" else None


_LOOPS = threading.local()


def _run(coro):
    """Run `coro` on this thread's own event loop, kept for the thread's life.

    Why not `asyncio.run`: it builds and tears down a loop per call, and on the main thread it
    also installs a SIGINT handler whose enum lookup formats the task's repr, result included —
    a repr of the whole signed PDF.  Together ~3 ms of a ~10 ms signature (bench/issue.py)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        coro.close()
        raise SigningError("call async_sign from async code", "异步环境中请调用 async_sign")
    loop = getattr(_LOOPS, "loop", None)
    if loop is None or loop.is_closed():
        loop = _LOOPS.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


class _Same:
    """An object as a dictionary key by identity, held: unlike an `id()`, which the next object
    allocated at that address takes over once the first is collected, so a new credential
    would sign with a dead one's stamper (its key and certificate)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other) -> bool:
        return isinstance(other, _Same) and other.obj is self.obj


class StamperCache:
    """Stampers for `sign_licence_pdf`, one per (credential, seal, picture, box, timestamper),
    the least recently used dropped beyond `size`.  The caller owns it (the service keeps its
    stampers in its own context), so stampers and the keys they hold live no longer than it."""

    def __init__(self, size: int = 64):
        self.size = size
        self._stampers: "OrderedDict[tuple, LicenceStamper]" = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._stampers)

    def stamper(self, credential, seal, seal_png: bytes | None, box: tuple,
                timestamper) -> LicenceStamper:
        seal_key = seal.dump() if hasattr(seal, "dump") else seal
        key = (_Same(credential), seal_key, seal_png, box, _Same(timestamper))
        with self._lock:
            stamper = self._stampers.get(key)
            if stamper is not None:
                self._stampers.move_to_end(key)
                return stamper
        stamper = LicenceStamper(credential, seal=seal, seal_png=seal_png, seal_box=box,
                                 timestamper=timestamper)
        with self._lock:
            stamper = self._stampers.setdefault(key, stamper)
            while len(self._stampers) > self.size:
                self._stampers.popitem(last=False)
        return stamper


def sign_licence_pdf(pdf_bytes: bytes, credential, seal=None, seal_png: bytes | None = None,
                     seal_box=None, timestamper=None, licence: Mapping | None = None,
                     cache: StamperCache | None = None) -> bytes:
    """Certify `pdf_bytes` with `credential` and return the signed PDF.

    Building the stamper costs more than a signature: pass a `StamperCache` when signing
    repeatedly, so each further call for the same office costs one parse and one signature."""
    box = tuple(seal_box) if seal_box is not None else DEFAULT_SEAL_BOX
    if cache is None:
        stamper = LicenceStamper(credential, seal=seal, seal_png=seal_png, seal_box=box,
                                 timestamper=timestamper)
    else:
        stamper = cache.stamper(credential, seal, seal_png, box, timestamper)
    return stamper.sign(pdf_bytes, licence)
