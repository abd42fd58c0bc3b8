"""Small signed OFD packages made in the tests from the development PKI (nothing binary is
committed): a one-page document signed with an electronic seal (SES_Signature, as ofdrw's
SESV4Container does) or with a plain GB/T 35275 SignedData (as ofdrw's GBT35275DSContainer
and GBT35275PKCS9DSContainer do), plus helpers to re-zip a package with files changed.

The SignedData here is assembled with its own ASN.1 classes and literal OIDs, not with anything
from verification.ofd, so the verifier is checked against an independent encoder.
"""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace

from asn1crypto import cms, core, x509

from formats import algorithms as alg
from signing.x509 import build_certificate
from tests.support import seal as ss

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
SIGN_DIR = "Doc_0/Signs/Sign_0/"
PAGE = "Doc_0/Pages/Page_0/Content.xml"
SM3_OID = "1.2.156.10197.1.401"
GM_DATA, GM_SIGNED_DATA = "1.2.156.10197.6.1.4.2.1", "1.2.156.10197.6.1.4.2.2"
PKCS7_DATA, PKCS7_SIGNED_DATA = "1.2.840.113549.1.7.1", "1.2.840.113549.1.7.2"


def content_files(text: str = "营业执照 / business licence") -> dict[str, bytes]:
    ofd = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {NS} Version="1.1" DocType="OFD">'
           '<ofd:DocBody><ofd:DocInfo><ofd:DocID>6c1f0a1e2d3b4c5d8e9f00112233aabb</ofd:DocID>'
           '</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>'
           '<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures></ofd:DocBody></ofd:OFD>')
    document = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {NS}><ofd:CommonData>'
                '<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>'
                '<ofd:PublicRes>PublicRes.xml</ofd:PublicRes><ofd:MaxUnitID>4</ofd:MaxUnitID>'
                '</ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>'
                '</ofd:Pages></ofd:Document>')
    public_res = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {NS} BaseLoc="Res"><ofd:Fonts>'
                  '<ofd:Font ID="3" FontName="SimSun" FamilyName="SimSun"/></ofd:Fonts></ofd:Res>')
    page = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {NS}><ofd:Content><ofd:Layer ID="2">'
            '<ofd:TextObject ID="4" Boundary="20 20 170 10" Font="3" Size="5"><ofd:TextCode X="0" '
            f'Y="5">{text}</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>')
    return {"OFD.xml": ofd.encode(), "Doc_0/Document.xml": document.encode(),
            "Doc_0/PublicRes.xml": public_res.encode(), PAGE: page.encode()}


def signatures_xml(kind: str = "Seal") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Signatures {NS}><ofd:MaxSignId>1'
            f'</ofd:MaxSignId><ofd:Signature ID="1" Type="{kind}" BaseLoc="/{SIGN_DIR}'
            'Signature.xml"/></ofd:Signatures>').encode()


def signature_xml(files: dict[str, bytes], *, check_method: str = SM3_OID, digest=alg.sm3,
                  seal: bool = True, page_ref: str = "1", boundary: str = "120 230 40 40",
                  when: str = "20261122160000", sign_dir: str = SIGN_DIR) -> bytes:
    refs = "".join(f'<ofd:Reference FileRef="/{name}"><ofd:CheckValue>'
                   f'{base64.b64encode(digest(data)).decode()}</ofd:CheckValue></ofd:Reference>'
                   for name, data in files.items())
    seal_part = "<ofd:Seal><ofd:BaseLoc>Seal.esl</ofd:BaseLoc></ofd:Seal>" if seal else ""
    stamp = f'<ofd:StampAnnot ID="5" PageRef="{page_ref}" Boundary="{boundary}"/>' if seal else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Signature {NS}><ofd:SignedInfo>'
            '<ofd:Provider ProviderName="license-svc tests" Company="yrd" Version="1"/>'
            '<ofd:SignatureMethod>1.2.156.10197.1.501</ofd:SignatureMethod>'
            f'<ofd:SignatureDateTime>{when}</ofd:SignatureDateTime>'
            f'<ofd:References CheckMethod="{check_method}">{refs}</ofd:References>{stamp}'
            f'{seal_part}</ofd:SignedInfo><ofd:SignedValue>/{sign_dir}SignedValue.dat'
            '</ofd:SignedValue></ofd:Signature>').encode()


def zip_files(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}


def rezip(data: bytes, *, replace: dict[str, bytes | None] | None = None,
          add: dict[str, bytes] | None = None) -> bytes:
    """The package `data` with files replaced (None removes one) and added, order kept."""
    files = unzip(data)
    for name, new in (replace or {}).items():
        if new is None:
            files.pop(name)
        else:
            files[name] = new
    files.update(add or {})
    return zip_files(files)


@lru_cache(maxsize=8)
def seal_package(text: str = "营业执照 / business licence", check_method: str = SM3_OID,
                 page_ref: str = "1") -> bytes:
    """A one-page OFD sealed by the sh dev organisation (seal made by the sh seal maker)."""
    files = content_files(text)
    digest = alg.sha256 if "2.16.840" in check_method or "256" in check_method else alg.sm3
    seal_der = _seal()
    files[SIGN_DIR + "Seal.esl"] = seal_der
    xml = signature_xml(files, check_method=check_method, digest=digest, page_ref=page_ref)
    cred = ss.signer()
    value = ss.signature(seal_der, cred=cred, data=xml, time=ss.T0)
    return zip_files({**files, "Doc_0/Signs/Signatures.xml": signatures_xml("Seal"),
                      SIGN_DIR + "Signature.xml": xml, SIGN_DIR + "SignedValue.dat": value})


SIGN_DIR_2 = "Doc_0/Signs/Sign_1/"


@lru_cache(maxsize=1)
def two_seals_package() -> bytes:
    """`seal_package()` sealed a second time, as a co-signer would: the second signature
    protects every file, the first signature's included, except Signatures.xml."""
    files = {k: v for k, v in unzip(seal_package()).items() if k != "Doc_0/Signs/Signatures.xml"}
    files[SIGN_DIR_2 + "Seal.esl"] = _seal()
    xml = signature_xml(files, boundary="40 230 40 40", sign_dir=SIGN_DIR_2)
    listing = signatures_xml("Seal").replace(b"</ofd:Signatures>", (
        f'<ofd:Signature ID="2" Type="Seal" BaseLoc="/{SIGN_DIR_2}Signature.xml"/>'
        '</ofd:Signatures>').encode())
    return zip_files({**files, "Doc_0/Signs/Signatures.xml": listing,
                      SIGN_DIR_2 + "Signature.xml": xml,
                      SIGN_DIR_2 + "SignedValue.dat": ss.signature(_seal(), data=xml, time=ss.T0)})


@lru_cache(maxsize=1)
def _seal() -> bytes:
    return ss.seal()


@lru_cache(maxsize=16)
def sign_package(form: str = "gm", text: str = "营业执照 / business licence",
                 cred_name: str = "dev") -> bytes:
    """A one-page OFD with a plain digital signature.  `form`: "gm" (GB/T 35275 OIDs, content =
    SM3(Signature.xml), no attributes — ofdrw GBT35275DSContainer), "pkcs9" (detached, PKCS#9
    attributes — GBT35275PKCS9DSContainer), "rfc" (RFC 5652 OIDs, attributes, content = the
    hash), "bare" (a SignedData without ContentInfo)."""
    files = content_files(text)
    xml = signature_xml(files, seal=False)
    cred = ss.signer() if cred_name == "dev" else untrusted()
    value = signed_data(xml, cred.key, cred.cert, form=form)
    return zip_files({**files, "Doc_0/Signs/Signatures.xml": signatures_xml("Sign"),
                      SIGN_DIR + "Signature.xml": xml, SIGN_DIR + "SignedValue.dat": value})


# --- GB/T 35275 SignedData, encoded independently of the verifier ---------------------------
class Content(core.Sequence):
    _fields = [("content_type", core.ObjectIdentifier),
               ("content", core.OctetString, {"explicit": 0, "optional": True})]


class SignedData(core.Sequence):
    _fields = [("version", core.Integer), ("digest_algorithms", cms.DigestAlgorithms),
               ("content_info", Content),
               ("certificates", cms.CertificateSet, {"implicit": 0, "optional": True}),
               ("signer_infos", cms.SignerInfos)]


class ContentInfo(core.Sequence):
    _fields = [("content_type", core.ObjectIdentifier), ("content", SignedData, {"explicit": 0})]


def signed_data(xml: bytes, key, cert, *, form: str = "gm", signing_time: datetime = ss.T0,
                tamper_signature: bool = False) -> bytes:
    digest = alg.sm3(xml)
    data_oid, wrapper_oid = (PKCS7_DATA, PKCS7_SIGNED_DATA) if form == "rfc" else \
        (GM_DATA, GM_SIGNED_DATA)
    attrs = None
    if form == "gm" or form == "bare":
        content, message = digest, digest
    else:
        content = None if form == "pkcs9" else digest
        attrs = cms.CMSAttributes([
            {"type": "content_type", "values": [data_oid]},
            {"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]},
            {"type": "message_digest", "values": [digest if form == "pkcs9" else alg.sm3(content)]},
        ])
        message = attrs.dump()
    signature = key.sign(message)
    if tamper_signature:
        signature = key.sign(message + b"x")
    info = {"version": "v1", "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
        "issuer": cert.issuer, "serial_number": cert.serial_number}}),
        "digest_algorithm": {"algorithm": SM3_OID},
        "signature_algorithm": {"algorithm": "1.2.156.10197.1.301.1"}, "signature": signature}
    if attrs is not None:
        info["signed_attrs"] = attrs
    sd = SignedData({"version": 1, "digest_algorithms": [{"algorithm": SM3_OID}],
                     "content_info": {"content_type": data_oid, "content": content},
                     "certificates": [cert], "signer_infos": [info]})
    if form == "bare":
        return sd.dump()
    return ContentInfo({"content_type": wrapper_oid, "content": sd}).dump()


@lru_cache(maxsize=1)
def untrusted():
    """A signer nobody here trusts: an SM2 key certified by a private SM2 root."""
    root_key, key = alg.generate_private_key("sm2"), alg.generate_private_key("sm2")
    start, end = ss.T0.replace(month=1, day=1), ss.T0.replace(year=2028)
    root = build_certificate(subject=_name("Untrusted Root"), issuer_key=root_key,
                             subject_public_key=root_key.public_key, not_before=start,
                             not_after=end, ca=True)
    cert = build_certificate(subject=_name("Untrusted Signer"), issuer_key=root_key,
                             issuer_cert=root, subject_public_key=key.public_key,
                             not_before=start, not_after=end, key_usage={"digital_signature"})
    return SimpleNamespace(key=key, cert=cert, root=root)


def _name(cn: str) -> x509.Name:
    return x509.Name.build({"common_name": cn, "country_name": "CN"})
