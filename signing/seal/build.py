"""Make GB/T 38540-2020 (v4) seals and sign documents with them.

`make_seal` is the seal maker's (制章机构) act: it lists the certificates allowed to use the seal
and signs DER(SES_SealInfo).  `sign_document` is the seal holder's act: a signer whose certificate
the seal lists signs DER(TBS_Sign) over the document's hash.  Both write strict DER (asn1crypto,
`critical` omitted when false, extDatas untagged in SES_SealInfo and `[0] EXPLICIT` in TBS_Sign)
and refuse, with a bilingual error, what a verifier would reject anyway: a key that does not
match its certificate, a signer the seal does not list, a signing time outside the seal's validity.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable, Union

from asn1crypto import x509

from formats import algorithms as alg
from formats.certs import CertificateFormatError, certificate_from_der
from formats.errors import SigningError
from formats.seal import asn1
from formats.seal.parse import Seal, SealFormatError, parse_seal

# SES_ESPropertyInfo.type: business-defined in GB/T 38540; GM/T 0031-2014 fixed 1 and 2.
SEAL_TYPE_ORGANISATION = 1  # 单位印章（公章）
SEAL_TYPE_PERSONAL = 2      # 个人印章（名章）
SEAL_TYPE_SPECIAL = 3       # 专用章（合同专用章、发票专用章、财务专用章…）
SEAL_TYPES = {SEAL_TYPE_ORGANISATION: "单位印章", SEAL_TYPE_PERSONAL: "个人印章",
              SEAL_TYPE_SPECIAL: "专用章"}

VENDOR_ID = "YRD-LICENSE-SVC"  # SES_Header.Vid: who made the seal software
CERT_DIGEST_NAME = "sm3"       # CertDigestObj.type we write for certListType 2

Cert = Union[bytes, x509.Certificate]


class SealBuildError(SigningError):
    code = "seal-build"


@dataclass(frozen=True)
class SealPicture:
    """The seal's image and its printed size in millimetres (SES_ESPictrueInfo)."""

    data: bytes
    width_mm: int
    height_mm: int
    type: str = "PNG"


@dataclass(frozen=True)
class SealCredential:
    """What a document signer (e.g. the PDF stamper) needs of a seal: its DER, to carry it in a
    signature, and its picture, to draw it."""

    seal_der: bytes
    seal_id: str
    name: str
    picture: bytes
    picture_type: str
    width_mm: int
    height_mm: int

    @classmethod
    def from_der(cls, seal_der: bytes) -> "SealCredential":
        seal = parse_seal(seal_der)
        return cls.from_seal(seal)

    @classmethod
    def from_seal(cls, seal: Seal) -> "SealCredential":
        return cls(seal_der=seal.der, seal_id=seal.es_id, name=seal.name, picture=seal.picture,
                   picture_type=seal.picture_type, width_mm=seal.width_mm,
                   height_mm=seal.height_mm)


def new_seal_id() -> str:
    """A fresh esID: 32 lowercase hex characters, as ofdrw writes (IA5String)."""
    return secrets.token_hex(16)


def make_seal(*, maker_key: alg.PrivateKey, maker_cert: Cert, es_id: str, name: str,
              seal_type: int, picture: SealPicture, signer_certs: Iterable[Cert],
              valid_start: datetime, valid_end: datetime, created: datetime,
              cert_digests: bool = False, vendor_id: str = VENDOR_ID,
              extensions: Iterable[tuple[str, bool, bytes]] = ()) -> bytes:
    """DER of a v4 SESeal.  With `cert_digests`, certList holds SM3 digests of the signer
    certificates (certListType 2) instead of the certificates themselves."""
    maker_der = _cert_der(maker_cert, "maker certificate", "制章者证书")
    _require_key_matches(maker_key, maker_der, "seal maker", "制章者")
    signers = [_cert_der(c, "signer certificate", "签章者证书") for c in signer_certs]
    if not signers:
        raise SealBuildError("a seal must list at least one signer certificate",
                             "印章至少须列出一张签章者证书")
    for t in (valid_start, valid_end, created):
        _require_aware(t)
    if not valid_start < valid_end:
        raise SealBuildError("validStart must be before validEnd", "印章有效期起始须早于截止")
    _require_ia5(es_id, "esID")
    _require_ia5(vendor_id, "Vid")
    if not name:
        raise SealBuildError("the seal needs a name", "印章名称不能为空")
    if not (0 < picture.width_mm <= 1000 and 0 < picture.height_mm <= 1000):
        raise SealBuildError("picture size must be 1..1000 mm", "印章图片尺寸须为 1–1000 毫米")
    if cert_digests:
        cert_list = asn1.CertDigestList([{"type": CERT_DIGEST_NAME, "value": alg.sm3(c)}
                                         for c in signers])
    else:
        cert_list = asn1.CertInfoList(signers)
    info = {
        "header": {"id": asn1.HEADER_ID, "version": asn1.VERSION_V4, "vid": vendor_id},
        "es_id": es_id,
        "property": {
            "type": int(seal_type), "name": name,
            "cert_list_type": asn1.CERT_LIST_DIGESTS if cert_digests else asn1.CERT_LIST_CERTS,
            "cert_list": cert_list,
            "create_date": _second(created), "valid_start": _second(valid_start),
            "valid_end": _second(valid_end),
        },
        "picture": {"type": picture.type, "data": picture.data, "width": picture.width_mm,
                    "height": picture.height_mm},
    }
    ext = _extensions(extensions)
    if ext is not None:
        info["ext_datas"] = ext
    seal_info = asn1.SealInfo(info)
    signed_value = maker_key.sign(seal_info.dump())
    return asn1.SESeal({
        "e_seal_info": seal_info, "cert": maker_der,
        "sign_alg_id": alg.signature_algorithm_oid(maker_key), "signed_value": signed_value,
    }).dump()


def document_digest(data: bytes, signer_algorithm: str) -> bytes:
    """dataHash: the signer algorithm's own digest — SM3 for SM2 signers, SHA-256 for RSA
    (GM/T 0031-2014 §5 pairs them so)."""
    return alg.registry.by_name(signer_algorithm).digest(data)


def sign_document(*, seal_der: bytes, signer_key: alg.PrivateKey, signer_cert: Cert,
                  property_info: str, time: datetime, data: bytes | None = None,
                  data_hash: bytes | None = None,
                  extensions: Iterable[tuple[str, bool, bytes]] = (),
                  timestamper: Callable[[bytes], bytes] | None = None) -> bytes:
    """DER of a v4 SES_Signature over `data` (or over a `data_hash` computed elsewhere).

    `property_info` states what is protected (ofdrw: the path of Signature.xml; here e.g. the file
    name).  `timestamper`, if given, receives the signature value and returns a DER timestamp
    token over it, stored as `timeStamp [0]`."""
    try:
        seal = parse_seal(seal_der)
    except SealFormatError as exc:
        raise SealBuildError(f"the seal cannot be read: {exc.message_en}",
                             f"印章无法读取：{exc.message_zh}") from None
    if seal.family != "v4":
        raise SealBuildError(f"only v4 (GB/T 38540) seals can sign here, this one is {seal.family}",
                             f"只能使用 GB/T 38540（v4）印章签章，此印章为 {seal.family}")
    cert_der = _cert_der(signer_cert, "signer certificate", "签章者证书")
    _require_key_matches(signer_key, cert_der, "signer", "签章者")
    if not seal.lists_signer(cert_der):
        raise SealBuildError("the signer's certificate is not listed in the seal",
                             "签章者证书不在该印章的证书列表中")
    _require_aware(time)
    if not seal.valid_start <= time <= seal.valid_end:
        raise SealBuildError(f"the seal is valid {seal.valid_start:%Y-%m-%d} – "
                             f"{seal.valid_end:%Y-%m-%d}, not at {time:%Y-%m-%d %H:%M:%S}",
                             f"印章有效期为 {seal.valid_start:%Y-%m-%d} 至 {seal.valid_end:%Y-%m-%d}，"
                             f"签章时间不在有效期内")
    if (data is None) == (data_hash is None):
        raise SealBuildError("give either the document or its hash", "须提供文件或其摘要之一")
    if data is not None:
        data_hash = document_digest(data, signer_key.algorithm)
    elif len(data_hash) != 32:
        raise SealBuildError("dataHash must be 32 bytes (SM3 or SHA-256)",
                             "dataHash 须为 32 字节（SM3 或 SHA-256）")
    _require_ia5(property_info, "propertyInfo")
    tbs = {
        "version": asn1.VERSION_V4, "eseal": asn1.SESeal.load(seal.der),
        "time_info": _second(time), "data_hash": bytes(data_hash),
        "property_info": property_info,
    }
    ext = _extensions(extensions)
    if ext is not None:
        tbs["ext_datas"] = ext
    to_sign = asn1.TBSSign(tbs)
    signature = signer_key.sign(to_sign.dump())
    out = {"to_sign": to_sign, "cert": cert_der,
           "signature_alg_id": alg.signature_algorithm_oid(signer_key), "signature": signature}
    if timestamper is not None:
        out["time_stamp"] = timestamper(signature)
    return asn1.SESSignature(out).dump()


def tsa_timestamper(authority) -> Callable[[bytes], bytes]:
    """A `timestamper` for sign_document backed by a `signing.tsa.TimeStampAuthority`: asks it,
    through the RFC 3161 request/response encoding, for a token over the signature value."""
    from asn1crypto import tsp

    def stamp(signature: bytes) -> bytes:
        imprint = {"hash_algorithm": {"algorithm": authority.digest_name},
                   "hashed_message": alg.digest(authority.digest_name, signature)}
        request = tsp.TimeStampReq({"version": "v1", "message_imprint": imprint,
                                    "nonce": secrets.randbits(63) | 1, "cert_req": True})
        response = tsp.TimeStampResp.load(authority.respond(request.dump()))
        if response["status"]["status"].native != "granted":
            raise SealBuildError("the time-stamp authority refused the request",
                                 "时间戳服务拒绝了请求")
        return response["time_stamp_token"].dump()

    return stamp


# ---------------------------------------------------------------------------------------------
def _cert_der(cert: Cert, en: str, zh: str) -> bytes:
    if isinstance(cert, x509.Certificate):
        return cert.dump()
    try:
        certificate_from_der(bytes(cert))
    except CertificateFormatError:
        raise SealBuildError(f"the {en} is not a DER X.509 certificate",
                             f"{zh}不是 DER 格式的 X.509 证书") from None
    return bytes(cert)


def _require_key_matches(key: alg.PrivateKey, cert_der: bytes, en: str, zh: str) -> None:
    spki = x509.Certificate.load(cert_der).public_key
    try:
        matches = alg.load_public_key(spki) == key.public_key
    except SigningError:
        matches = False
    if not matches:
        raise SealBuildError(f"the {en} key does not match its certificate",
                             f"{zh}私钥与证书不匹配")


def _require_aware(t: datetime) -> None:
    if not isinstance(t, datetime) or t.tzinfo is None:
        raise SealBuildError("times must be timezone-aware datetimes", "时间须带时区")


def _require_ia5(text: str, what: str) -> None:
    if not isinstance(text, str) or not text.isascii() or not text:
        raise SealBuildError(f"{what} must be non-empty ASCII (IA5String)",
                             f"{what} 须为非空 ASCII 字符串（IA5String）")


def _second(t: datetime) -> datetime:
    """GeneralizedTime without fractions, in UTC ("YYYYMMDDHHMMSSZ"), as DER wants."""
    return t.astimezone(timezone.utc).replace(microsecond=0)


def _extensions(items: Iterable[tuple[str, bool, bytes]]):
    items = list(items)
    if not items:
        return None
    return asn1.ExtensionDatas([{"extn_id": oid, "critical": bool(crit), "extn_value": value}
                                for oid, crit, value in items])
