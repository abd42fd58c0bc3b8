"""Signed PDFs as other tools make them (issue 15): a throwaway PKI made with the OpenSSL CLI,
signatures made with pyHanko, then re-signed the way older or foreign tools write them — CMS in
BER with indefinite lengths, a signature dictionary without /Type, a signed attribute of a type
nobody here knows, SHA-1 or RSA-1024 — with a genuine signature over the changed bytes, so a
verifier that rejects them is wrong, not the file.

`pyhanko_verdict` is pyHanko's own validator on the same file, for comparison."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms, core, pem, x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from tests.support.material import licence_page

_SIGNER_EXT = ("basicConstraints=critical,CA:FALSE\n"
               "keyUsage=critical,digitalSignature,nonRepudiation\n")


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=cwd)


def load_cert(path: Path) -> x509.Certificate:
    data = path.read_bytes()
    if pem.detect(data):
        data = pem.unarmor(data)[2]
    return x509.Certificate.load(data)


@dataclass
class Pki:
    """A root CA and one signer, as files made by `openssl`."""

    dir: Path
    md: str = "sha256"

    @property
    def root(self) -> x509.Certificate:
        return load_cert(self.dir / "ca.pem")

    @property
    def signer_cert(self) -> x509.Certificate:
        return load_cert(self.dir / "signer.pem")

    def signer(self) -> signers.SimpleSigner:
        return signers.SimpleSigner.load(str(self.dir / "signer.key"), str(self.dir / "signer.pem"),
                                         ca_chain_files=(str(self.dir / "ca.pem"),))


def make_pki(folder: Path, *, bits: int = 2048, md: str = "sha256",
             subject: str = "/CN=Throwaway Signer", extra_ext: str = "",
             req_args: tuple = ()) -> Pki:
    """Root and signer with the OpenSSL CLI; `bits`/`md` for the signer's key and the
    certificate signatures, `subject`/`req_args`/`extra_ext` for quirky names and extensions."""
    folder.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "3650", f"-{md}", "-subj", "/CN=Throwaway Root CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    names = ("-subj", subject) if "-config" not in req_args else ()
    openssl("req", "-new", "-newkey", f"rsa:{bits}", "-nodes", "-keyout", "signer.key", "-out",
            "signer.csr", *names, *req_args, cwd=folder)
    (folder / "ext.cnf").write_text(_SIGNER_EXT + extra_ext)
    openssl("x509", "-req", "-in", "signer.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "signer.pem", "-days", "365", f"-{md}",
            "-extfile", "ext.cnf", cwd=folder)
    return Pki(folder, md)


def add_tsa(pki: Pki, bits: int = 2048) -> None:
    """A timestamping certificate (RSA `bits`) from the same root, as tsa.key / tsa.pem."""
    openssl("req", "-new", "-newkey", f"rsa:{bits}", "-nodes", "-keyout", "tsa.key", "-out",
            "tsa.csr", "-subj", "/CN=Throwaway TSA", cwd=pki.dir)
    (pki.dir / "tsa.cnf").write_text("basicConstraints=critical,CA:FALSE\n"
                                     "keyUsage=critical,digitalSignature,nonRepudiation\n"
                                     "extendedKeyUsage=critical,timeStamping\n")
    openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "tsa.pem", "-days", "365", "-sha256",
            "-extfile", "tsa.cnf", cwd=pki.dir)


def timestamper(pki: Pki, when=None):
    """pyHanko's in-process TSA with the certificate of `add_tsa`, at `when` (default now),
    SHA-256 whatever the signature uses."""
    return DummyTimeStamper(tsa_cert=load_cert_from_pemder(str(pki.dir / "tsa.pem")),
                            tsa_key=load_private_key_from_pemder(str(pki.dir / "tsa.key"), None),
                            certs_to_embed=[pki.root], fixed_dt=when, override_md="sha256")


def sign(pki: Pki, name: str | None = None, timestamper=None) -> bytes:
    """A one-page PDF signed by pyHanko as it signs by default (adbe.pkcs7.detached); `name`
    for /Name when pyHanko cannot read the signer's subject to write it."""
    w = IncrementalPdfFileWriter(io.BytesIO(licence_page()))
    meta = signers.PdfSignatureMetadata(field_name="Signature1", md_algorithm=pki.md, name=name)
    return signers.sign_pdf(w, meta, signer=pki.signer(), timestamper=timestamper).getvalue()


def resign(data: bytes, pki: Pki, *, drop_type: bool = False, extra_attrs=(), ber: bool = False,
           depth: int = 5, md: str | None = None) -> bytes:
    """The last signature of `data` made again over (possibly changed) signed bytes:
    `drop_type` blanks `/Type /Sig` in its dictionary, `extra_attrs` are (OID, value DER)
    signed attributes added, `ber` writes the CMS with indefinite lengths `depth` levels deep."""
    md = md or pki.md
    br = list(re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data))[-1]
    a, b, c, d = (int(x) for x in br.groups())
    if drop_type:
        start = data.find(b"/Type /Sig", c, data.find(b"endobj", c))
        assert start > 0, "no /Type after /Contents in the last signature dictionary"
        data = data[:start] + b" " * len(b"/Type /Sig") + data[start + len(b"/Type /Sig"):]
    digest = hashlib.new(md, data[a:a + b] + data[c:c + d]).digest()
    signer = pki.signer()
    info = asyncio.run(signer.async_sign(digest, md))
    if extra_attrs:
        si = info["content"]["signer_infos"][0]
        raw = _tlv(0x31, b"".join(a.dump() for a in si["signed_attrs"]) + b"".join(
            _tlv(0x30, core.ObjectIdentifier(oid).dump() + _tlv(0x31, value))
            for oid, value in extra_attrs))
        si["signed_attrs"] = cms.CMSAttributes.load(raw)
        si["signature"] = asyncio.run(signer.async_sign_raw(raw, md))
    blob = to_ber(info.dump(), depth) if ber else info.dump()
    room = (c - b - 2) // 2
    assert len(blob) <= room, "signature does not fit the placeholder"
    return data[:b + 1] + (blob.hex() + "0" * (2 * room - 2 * len(blob))).encode() + data[c - 1:]


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    length = bytes([n]) if n < 0x80 else bytes([0x82]) + n.to_bytes(2, "big")
    assert n < 0x10000
    return bytes([tag]) + length + body


def to_ber(der: bytes, depth: int = 5) -> bytes:
    """The same value with the constructed elements of the outer `depth` levels written with
    indefinite lengths (X.690 8.1.3.6), as older signing tools stream their CMS (ContentInfo,
    SignedData, its sets, each SignerInfo); deeper elements (certificates, signed attributes)
    stay DER, as those tools copy them."""
    out = bytearray()
    pos = 0
    while pos < len(der):
        tag_start = pos
        first = der[pos]
        pos += 1
        if first & 0x1F == 0x1F:
            while der[pos] & 0x80:
                pos += 1
            pos += 1
        tag = der[tag_start:pos]
        length = der[pos]
        pos += 1
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(der[pos:pos + n], "big")
            header = der[pos - 1:pos + n]
            pos += n
        else:
            header = bytes([length])
        body = der[pos:pos + length]
        pos += length
        if first & 0x20 and depth > 0:
            out += tag + b"\x80" + to_ber(body, depth - 1) + b"\x00\x00"
        else:
            out += tag + header + body
    return bytes(out)


def pyhanko_verdict(data: bytes, root: x509.Certificate) -> tuple[bool, bool, bool]:
    """(intact, valid, trusted) of the last signature by pyHanko's own validator."""
    reader = PdfFileReader(io.BytesIO(data))
    vc = ValidationContext(trust_roots=[root], allow_fetching=False)
    st = validate_pdf_signature(reader.embedded_signatures[-1], vc)
    return st.intact, st.valid, st.trusted


def resign_certificate(pki: Pki, change) -> None:
    """Replace the signer certificate by one whose TBS bytes went through `change` (bytes →
    bytes), signed again by the root with `openssl dgst`: for encodings OpenSSL will not write
    itself but reads (an emailAddress that is not IA5String, say)."""
    cert = pki.signer_cert
    tbs = change(cert["tbs_certificate"].dump())
    (pki.dir / "tbs.der").write_bytes(tbs)
    openssl("dgst", f"-{pki.md}", "-sign", "ca.key", "-out", "tbs.sig", "tbs.der", cwd=pki.dir)
    body = tbs + cert["signature_algorithm"].dump() + _tlv(
        0x03, b"\x00" + (pki.dir / "tbs.sig").read_bytes())
    (pki.dir / "signer.pem").write_bytes(pem.armor("CERTIFICATE", _tlv(0x30, body)))
