"""Read electronic seals (SESeal) and signatures-with-seal (SES_Signature) of every version.

Strict where it matters for security, lenient where real files differ harmlessly:
- the version is told from the structure, as ofdrw's VersionParser does (2 elements = v1;
  4 or 5 = v4 / v5 by SES_Header.version);
- the signed bytes (`signed_bytes`) are taken from the input as it is, never re-encoded, so a
  signature is checked over exactly what its maker signed;
- each tolerated deviation (extDatas tagging, an explicitly encoded `critical FALSE`, UTCTime where
  GeneralizedTime is due, OCTET STRING where BIT STRING is due, …) is kept in `notes`, in
  Chinese and English, so a report can say what was forgiven.

Anything else — truncated, trailing bytes, wrong types, missing fields — raises one
`SealFormatError`, whatever asn1crypto raised underneath; no other exception leaves this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import NoReturn

from asn1crypto import core

from formats import algorithms as alg
from formats.der import Element, children, read as read_element, sequence, tlv
from formats.errors import FormatError
from formats.seal import asn1

MAX_INPUT = 16 * 1024 * 1024  # a seal carries one picture; 16 MiB is far beyond any real one


class SealFormatError(FormatError):
    """The bytes are not a seal or signature we can read (verifiers map it to FORMAT_FAILURE)."""

    code = "seal-format"


@dataclass(frozen=True)
class Extension:
    oid: str
    critical: bool
    value: bytes


@dataclass(frozen=True)
class Seal:
    """One electronic seal, whatever its version, with the exact bytes its maker signed."""

    family: str                      # "v1" (GM/T 0031-2014), "v4" (GB/T 38540-2020), "v5"
    version: int                     # SES_Header.version as written
    vendor_id: str
    es_id: str
    seal_type: int
    name: str
    cert_list_type: int              # 1 certificates, 2 digests (v1 is always 1)
    certs: tuple[bytes, ...]         # DER certificates of the signers allowed to use the seal
    cert_digests: tuple[tuple[str, bytes], ...]  # (hash name, digest of a signer certificate)
    create_date: datetime
    valid_start: datetime
    valid_end: datetime
    picture_type: str
    picture: bytes
    width_mm: int
    height_mm: int
    extensions: tuple[Extension, ...]
    maker_cert: bytes
    signature_algorithm: str         # dotted OID
    signature: bytes                 # DER SM2 SEQUENCE{r,s} or RSA bytes
    signed_bytes: bytes              # v4/v5: DER(SES_SealInfo); v1: SEQUENCE{SealInfo, cert, alg}
    seal_info_der: bytes
    timestamp: bytes | None          # v5 only: token over the seal signature
    der: bytes
    notes: tuple[str, ...] = field(default=())

    def lists_signer(self, cert_der: bytes) -> bool:
        """Is this certificate allowed to use the seal: in certList, or (certListType 2) its
        digest, under a hash name we know, in certDigestList?"""
        if self.cert_list_type == asn1.CERT_LIST_CERTS:
            return bytes(cert_der) in self.certs
        for name, value in self.cert_digests:
            fn = _CERT_DIGESTS.get(name.strip().lower())
            if fn is not None and fn(bytes(cert_der)) == value:
                return True
        return False


_CERT_DIGESTS = {"sm3": alg.sm3, "sha256": alg.sha256, "sha-256": alg.sha256}


@dataclass(frozen=True)
class SealSignature:
    """One SES_Signature (电子签章数据) with the exact bytes its signer signed."""

    family: str
    version: int                     # TBS_Sign.version
    seal: Seal
    time_info: datetime | None       # None when a v1 timeInfo holds a token we do not read here
    data_hash: bytes
    property_info: str
    signer_cert: bytes
    signature_algorithm: str
    signature: bytes
    timestamp: bytes | None          # token over the signature value
    extensions: tuple[Extension, ...]
    signed_bytes: bytes              # DER(TBS_Sign) as read
    der: bytes
    notes: tuple[str, ...] = field(default=())


def parse_seal(der: bytes) -> Seal:
    """SESeal of any version → `Seal`; raises SealFormatError only."""
    return _guard("SESeal", lambda r: r.seal(_top(der, "SESeal")), der)


def parse_signature(der: bytes) -> SealSignature:
    """SES_Signature of any version → `SealSignature`; raises SealFormatError only."""
    return _guard("SES_Signature", lambda r: r.signature(_top(der, "SES_Signature")), der)


def detect(der: bytes) -> str:
    """'seal' or 'signature' for a DER blob of either kind (the CLI and the HTTP verifier take
    both): a signature's first element (TBS_Sign) opens with its INTEGER version, a seal's
    (SES_SealInfo) with the SES_Header SEQUENCE — in every version."""
    def kind(_reader):
        elements = _elements(_top(der, "SESeal/SES_Signature"), "SESeal/SES_Signature")
        first = _elements(elements[0], "first element") if elements else []
        if not first:
            _fail("neither a seal nor a signature", "既不是电子印章也不是电子签章数据")
        return "signature" if _tag_of(first[0]) == (0, core.Integer.tag) else "seal"
    return _guard("SESeal/SES_Signature", kind, der)


# ---------------------------------------------------------------------------------------------
def _guard(what: str, fn, der):
    if not isinstance(der, (bytes, bytearray, memoryview)):
        raise SealFormatError(f"{what}: expected bytes, got {type(der).__name__}",
                              f"{_zh(what)}：输入必须是字节串")
    if len(der) > MAX_INPUT:
        raise SealFormatError(f"{what}: {len(der)} bytes exceeds the {MAX_INPUT}-byte limit",
                              f"{_zh(what)}：数据过大（{len(der)} 字节）")
    try:
        return fn(_Reader())
    except SealFormatError:
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError, OverflowError…
        raise SealFormatError(f"{what}: malformed or truncated DER ({exc.__class__.__name__}: "
                              f"{str(exc)[:200]})", f"{_zh(what)}：DER 编码错误或数据不完整") from None


def _zh(what: str) -> str:
    return {"SESeal": "电子印章", "SES_Signature": "电子签章数据"}.get(what, "电子印章/签章数据")


def _fail(en: str, zh: str) -> NoReturn:
    raise SealFormatError(en, zh)


def _top(data, what: str) -> Element:
    try:
        return read_element(data)
    except ValueError as exc:
        _fail(f"{what}: not one complete DER element ({str(exc)[:200]})",
              f"{_zh(what)}：不是完整的 DER 数据")


def _elements(value: Element, what: str) -> list[Element]:
    if (value.cls, value.tag, value.constructed) != (0, core.Sequence.tag, True):
        _fail(f"{what}: expected a SEQUENCE", f"{what}：应为 SEQUENCE")
    return list(children(value.contents))


def _tag_of(value: Element) -> tuple[int, int]:
    return value.cls, value.tag


def _as(value: Element, cls, what: str):
    if _tag_of(value) != (0, cls.tag):
        _fail(f"{what}: expected {cls.__name__}", f"{what}：类型应为 {cls.__name__}")
    try:
        out = cls.load(value.raw, strict=True)
        out.native  # force the lazy parse so errors surface here
        return out
    except ValueError as exc:
        _fail(f"{what}: malformed {cls.__name__} ({str(exc)[:120]})",
              f"{what}：{cls.__name__} 编码错误")


def _count(items: list, allowed: tuple[int, ...], what: str) -> None:
    if len(items) not in allowed:
        want = " or ".join(map(str, allowed))
        _fail(f"{what}: {len(items)} elements, expected {want}",
              f"{what}：元素个数为 {len(items)}，应为 {want}")


class _Reader:
    """One parse; collects the leniencies applied (`notes`)."""

    def __init__(self):
        self.notes: list[str] = []

    def note(self, zh: str, en: str) -> None:
        text = f"{zh} / {en}"
        if text not in self.notes:
            self.notes.append(text)

    # -- leaf values with tolerated variants ----------------------------------------------
    def time(self, value: Element, what: str, expected: type) -> datetime:
        tag = _tag_of(value)
        if tag == (0, core.GeneralizedTime.tag):
            actual = core.GeneralizedTime
        elif tag == (0, core.UTCTime.tag):
            actual = core.UTCTime
        else:
            _fail(f"{what}: expected a time", f"{what}：应为时间类型")
        t = _as(value, actual, what).native
        if actual is not expected:
            self.note(f"{what} 使用了 {actual.__name__}（标准为 {expected.__name__}），已兼容",
                      f"{what} is {actual.__name__}, {expected.__name__} expected; accepted")
        if t.tzinfo is None:
            self.note(f"{what} 未标明时区，按 UTC 处理", f"{what} has no time zone; read as UTC")
            t = t.replace(tzinfo=timezone.utc)
        return t.astimezone(timezone.utc)

    def bits(self, value: Element, what: str) -> bytes:
        """BIT STRING with 0 unused bits; an OCTET STRING is tolerated (seen in v1 data)."""
        if _tag_of(value) == (0, core.OctetString.tag):
            self.note(f"{what} 使用了 OCTET STRING（标准为 BIT STRING），已兼容",
                      f"{what} is an OCTET STRING, BIT STRING expected; accepted")
            return _as(value, core.OctetString, what).native
        return _as(value, core.OctetBitString, what).native

    def extensions(self, value: Element, what: str, *, tagged: bool) -> tuple[Extension, ...]:
        """ExtensionDatas, untagged (SES_SealInfo) or [0] EXPLICIT (TBS_Sign) as we write them;
        the other forms seen in the wild (ofdrw reads untagged, tagged and OCTET-wrapped) too."""
        cls, tag = _tag_of(value)
        if (cls, tag) == (2, 0) and value.constructed:
            inner = value.contents
            if tagged:
                body = _body_or_implicit(inner)
                if body is None:
                    self.note(f"{what} 使用了 [0] IMPLICIT 标记，已兼容",
                              f"{what} is [0] IMPLICIT; accepted")
                    body = sequence(inner)
            else:
                body = _body_or_implicit(inner) or sequence(inner)
                self.note(f"{what} 带有 [0] 标记（按规范不加标记），已兼容",
                          f"{what} carries a [0] tag (untagged per the standard); accepted")
        elif (cls, tag) == (0, core.Sequence.tag):
            body = value.raw
            if tagged:
                self.note(f"{what} 缺少 [0] 标记，已兼容", f"{what} lacks its [0] tag; accepted")
        elif (cls, tag) == (0, core.OctetString.tag):
            body = _as(value, core.OctetString, what).native
            self.note(f"{what} 被包在 OCTET STRING 中，已兼容",
                      f"{what} is wrapped in an OCTET STRING; accepted")
        else:
            _fail(f"{what}: unexpected element", f"{what}：无法识别的元素")
        out = []
        for i, item in enumerate(_elements(read_element(body), what)):
            parts = _elements(item, f"{what}[{i}]")
            _count(parts, (2, 3), f"{what}[{i}]")
            oid = _as(parts[0], core.ObjectIdentifier, f"{what}[{i}].extnID").dotted
            critical = False
            if len(parts) == 3:
                critical = bool(_as(parts[1], core.Boolean, f"{what}[{i}].critical").native)
                if not critical:
                    self.note(f"{what}[{i}].critical 显式编码为 FALSE（DER 应省略，ofdrw 如此编码），已兼容",
                              f"{what}[{i}].critical FALSE is encoded (DER omits a DEFAULT; "
                              "ofdrw writes it); accepted")
            value_bytes = _as(parts[-1], core.OctetString, f"{what}[{i}].extnValue").native
            out.append(Extension(oid, critical, value_bytes))
        return tuple(out)

    def timestamp(self, value: Element, what: str) -> bytes:
        cls, tag = _tag_of(value)
        if (cls, tag) == (2, 0) and value.constructed:
            return _as(read_element(value.contents), core.OctetBitString, what).native
        if (cls, tag) == (2, 0):
            self.note(f"{what} 使用了 [0] IMPLICIT 标记，已兼容", f"{what} is [0] IMPLICIT; accepted")
            return core.OctetBitString.load(b"\x03" + value.raw[1:], strict=True).native
        if (cls, tag) == (0, core.BitString.tag):
            self.note(f"{what} 缺少 [0] 标记，已兼容", f"{what} lacks its [0] tag; accepted")
            return _as(value, core.OctetBitString, what).native
        _fail(f"{what}: unexpected element", f"{what}：无法识别的元素")

    # -- SES_SealInfo ----------------------------------------------------------------------
    def seal_info(self, value: Element, family: str) -> dict:
        parts = _elements(value, "SES_SealInfo")
        _count(parts, (4, 5), "SES_SealInfo")
        header = _elements(parts[0], "SES_Header")
        _count(header, (3,), "SES_Header")
        hid = _as(header[0], core.IA5String, "SES_Header.ID").native
        if hid != asn1.HEADER_ID:
            _fail(f"SES_Header.ID is {hid!r}, expected 'ES'", f"SES_Header.ID 为 {hid!r}，应为 'ES'")
        version = _as(header[1], core.Integer, "SES_Header.version").native
        vid = _as(header[2], core.IA5String, "SES_Header.Vid").native
        es_id = _as(parts[1], core.IA5String, "esID").native
        prop = _elements(parts[2], "SES_ESPropertyInfo")
        want_time = core.UTCTime if family == "v1" else core.GeneralizedTime
        if family == "v1":
            _count(prop, (6,), "SES_ESPropertyInfo (v1)")
            cert_list_type, list_value, times = asn1.CERT_LIST_CERTS, prop[2], prop[3:]
        else:
            _count(prop, (7,), "SES_ESPropertyInfo")
            cert_list_type = _as(prop[2], core.Integer, "certListType").native
            list_value, times = prop[3], prop[4:]
        certs, digests = self.cert_list(list_value, cert_list_type)
        pic = _as(parts[3], asn1.PictureInfo, "SES_ESPictrueInfo")
        width, height = pic["width"].native, pic["height"].native
        if not (0 < width <= 1000 and 0 < height <= 1000):
            _fail(f"picture size {width}x{height} mm is not plausible",
                  f"印章图片尺寸 {width}×{height} 毫米不合理")
        ext: tuple[Extension, ...] = ()
        if len(parts) == 5:
            ext = self.extensions(parts[4], "SES_SealInfo.extDatas", tagged=False)
        return dict(
            version=version, vendor_id=vid, es_id=es_id,
            seal_type=_as(prop[0], core.Integer, "SES_ESPropertyInfo.type").native,
            name=_as(prop[1], core.UTF8String, "SES_ESPropertyInfo.name").native,
            cert_list_type=cert_list_type, certs=certs, cert_digests=digests,
            create_date=self.time(times[0], "createDate", want_time),
            valid_start=self.time(times[1], "validStart", want_time),
            valid_end=self.time(times[2], "validEnd", want_time),
            picture_type=pic["type"].native, picture=pic["data"].native,
            width_mm=width, height_mm=height, extensions=ext,
            seal_info_der=value.raw,
        )

    def cert_list(self, value: Element, list_type: int):
        items = _elements(value, "certList")
        if list_type == asn1.CERT_LIST_CERTS:
            certs = tuple(_as(c, core.OctetString, f"certList[{i}]").native
                          for i, c in enumerate(items))
            return certs, ()
        if list_type == asn1.CERT_LIST_DIGESTS:
            digests = []
            for i, c in enumerate(items):
                obj = _as(c, asn1.CertDigestObj, f"certDigestList[{i}]")
                digests.append((obj["type"].native, obj["value"].native))
            return (), tuple(digests)
        _fail(f"certListType {list_type} is neither 1 (certificates) nor 2 (digests)",
              f"certListType 为 {list_type}，应为 1（证书）或 2（证书摘要）")

    # -- SESeal ------------------------------------------------------------------------------
    def seal(self, value: Element) -> Seal:
        elements = _elements(value, "SESeal")
        if len(elements) == 2:
            return self._seal_v1(value, elements)
        _count(elements, (4, 5), "SESeal")
        header_version = _header_version(elements[0])
        family = "v5" if header_version == asn1.VERSION_V5 or len(elements) == 5 else "v4"
        if header_version not in (asn1.VERSION_V4, asn1.VERSION_V5):
            self.note(f"SES_Header.version 为 {header_version}，但结构为 GB/T 38540，按 {family} 读取",
                      f"SES_Header.version is {header_version} in a GB/T 38540 layout; read as {family}")
        info = self.seal_info(elements[0], family)
        cert = _as(elements[1], core.OctetString, "SESeal.cert").native
        alg = _as(elements[2], core.ObjectIdentifier, "SESeal.signAlgID").dotted
        sig = self.bits(elements[3], "SESeal.signedValue")
        ts = self.timestamp(elements[4], "SESeal.timeStamp") if len(elements) == 5 else None
        return Seal(family=family, maker_cert=cert, signature_algorithm=alg, signature=sig,
                    signed_bytes=info["seal_info_der"], timestamp=ts,
                    der=value.raw, notes=tuple(self.notes), **info)

    def _seal_v1(self, value: Element, elements: list[Element]) -> Seal:
        info = self.seal_info(elements[0], "v1")
        sign_info = _elements(elements[1], "SES_SignInfo")
        _count(sign_info, (3,), "SES_SignInfo")
        cert = _as(sign_info[0], core.OctetString, "SES_SignInfo.cert").native
        alg = _as(sign_info[1], core.ObjectIdentifier, "SES_SignInfo.signatureAlgorithm").dotted
        sig = self.bits(sign_info[2], "SES_SignInfo.signData")
        # GM/T 0031-2014 §5: signData covers SEQUENCE{SES_SealInfo, cert, signatureAlgorithm}.
        signed = sequence(elements[0].raw + sign_info[0].raw + sign_info[1].raw)
        return Seal(family="v1", maker_cert=cert, signature_algorithm=alg, signature=sig,
                    signed_bytes=signed, timestamp=None, der=value.raw,
                    notes=tuple(self.notes), **info)

    # -- SES_Signature -------------------------------------------------------------------------
    def signature(self, value: Element) -> SealSignature:
        elements = _elements(value, "SES_Signature")
        if len(elements) == 2:
            return self._signature_v1(value, elements)
        _count(elements, (4, 5), "SES_Signature")
        tbs = _elements(elements[0], "TBS_Sign")
        _count(tbs, (5, 6), "TBS_Sign")
        version = _as(tbs[0], core.Integer, "TBS_Sign.version").native
        seal = self._embedded_seal(tbs[1])
        if version != seal.version:
            self.note(f"TBS_Sign.version（{version}）与印章版本（{seal.version}）不一致",
                      f"TBS_Sign.version {version} differs from the seal's version {seal.version}")
        family = "v5" if version == asn1.VERSION_V5 else "v4"
        time_info = self.time(tbs[2], "TBS_Sign.timeInfo", core.GeneralizedTime)
        data_hash = self.bits(tbs[3], "TBS_Sign.dataHash")
        prop = _as(tbs[4], core.IA5String, "TBS_Sign.propertyInfo").native
        ext = self.extensions(tbs[5], "TBS_Sign.extDatas", tagged=True) if len(tbs) == 6 else ()
        cert = _as(elements[1], core.OctetString, "SES_Signature.cert").native
        alg = _as(elements[2], core.ObjectIdentifier, "SES_Signature.signatureAlgID").dotted
        sig = self.bits(elements[3], "SES_Signature.signature")
        ts = self.timestamp(elements[4], "SES_Signature.timeStamp") if len(elements) == 5 else None
        return SealSignature(family=family, version=version, seal=seal, time_info=time_info,
                             data_hash=data_hash, property_info=prop, signer_cert=cert,
                             signature_algorithm=alg, signature=sig, timestamp=ts, extensions=ext,
                             signed_bytes=elements[0].raw, der=value.raw,
                             notes=tuple(self.notes))

    def _signature_v1(self, value: Element, elements: list[Element]) -> SealSignature:
        if _tag_of(elements[0]) == (0, core.ObjectIdentifier.tag):
            _fail("this is a CMS / GB/T 35275 ContentInfo (a plain digital signature), "
                  "not an SES_Signature", "这是 CMS / GB/T 35275 数字签名（ContentInfo），不是电子签章数据")
        if all(_tag_of(e) == (0, core.Integer.tag) for e in elements):
            _fail("this is a bare SM2 signature value SEQUENCE{r, s} (a plain digital signature), "
                  "not an SES_Signature", "这是单独的 SM2 签名值 SEQUENCE{r, s}（数字签名），不是电子签章数据")
        tbs = _elements(elements[0], "TBS_Sign (v1)")
        _count(tbs, (7,), "TBS_Sign (v1)")
        version = _as(tbs[0], core.Integer, "TBS_Sign.version").native
        seal = self._embedded_seal(tbs[1])
        time_info = self._v1_time_info(tbs[2])
        data_hash = self.bits(tbs[3], "TBS_Sign.dataHash")
        prop = _as(tbs[4], core.IA5String, "TBS_Sign.propertyInfo").native
        cert = _as(tbs[5], core.OctetString, "TBS_Sign.cert").native
        alg = _as(tbs[6], core.ObjectIdentifier, "TBS_Sign.signatureAlgorithm").dotted
        sig = self.bits(elements[1], "SES_Signature.signature")
        return SealSignature(family="v1", version=version, seal=seal, time_info=time_info,
                             data_hash=data_hash, property_info=prop, signer_cert=cert,
                             signature_algorithm=alg, signature=sig, timestamp=None, extensions=(),
                             signed_bytes=elements[0].raw, der=value.raw,
                             notes=tuple(self.notes))

    def _v1_time_info(self, value: Element) -> datetime | None:
        """GM/T 0031-2014: a BIT STRING holding either a UTCTime text or a timestamp token."""
        if _tag_of(value) in ((0, core.UTCTime.tag), (0, core.GeneralizedTime.tag)):
            return self.time(value, "TBS_Sign.timeInfo", core.BitString)
        raw = self.bits(value, "TBS_Sign.timeInfo")
        for cls in (core.UTCTime, core.GeneralizedTime):
            try:
                t = cls.load(tlv(cls.tag, raw), strict=True).native
                return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
            except (ValueError, TypeError, OverflowError):
                continue
        self.note("TBS_Sign.timeInfo 不是 UTCTime 文本（可能是时间戳），未解析签章时间",
                  "TBS_Sign.timeInfo is not UTCTime text (perhaps a timestamp token); not read")
        return None

    def _embedded_seal(self, value: Element) -> Seal:
        inner = _Reader()
        seal = inner.seal(value)
        for n in inner.notes:
            if n not in self.notes:
                self.notes.append(n)
        return seal


def _header_version(seal_info: Element) -> int:
    parts = _elements(seal_info, "SES_SealInfo")
    header = _elements(parts[0], "SES_Header") if parts else []
    if len(header) != 3:
        _fail("SES_Header: expected 3 elements", "SES_Header：应有 3 个元素")
    return _as(header[1], core.Integer, "SES_Header.version").native


def _body_or_implicit(inner: bytes) -> bytes | None:
    """Inside a constructed [0]: the EXPLICIT form holds one SEQUENCE OF ExtData; the IMPLICIT
    form holds the ExtData SEQUENCEs themselves (each starting with an OID).  None = implicit."""
    first = read_element(inner, whole=False)
    if (first.cls, first.tag) != (0, core.Sequence.tag):
        return None
    items = _elements(first, "ExtensionDatas")
    if len(first.raw) == len(inner) and all(_tag_of(i) == (0, core.Sequence.tag) for i in items):
        return inner
    return None
