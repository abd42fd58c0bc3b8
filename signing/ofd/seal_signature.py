"""电子签章 on an OFD package (GB/T 33190 §18, GM/T 0099-2020 §7): a Signature.xml whose
References fix the SM3 of every file, a StampAnnot that shows the seal picture where it belongs,
and SignedValue.dat = a GB/T 38540 v4 SES_Signature over the bytes of that Signature.xml, made
by `signing.seal.sign_document` like every other seal signature of ours.

Adding a signature never changes a file an earlier signature protects: only Signatures.xml
(which no signature protects, so that signatures can be added) is rewritten, and the new
signature's files go to a new Signs/Sign_N/ directory.  The new signature protects everything
already in the package — earlier signatures included — except Signatures.xml.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

from formats import algorithms as alg
from formats.errors import SigningError
from signing.seal import sign_document

OFD_NS = "http://www.ofdspec.org/2016"
NS = f'xmlns:ofd="{OFD_NS}"'
HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
SM3_OID = "1.2.156.10197.1.401"
SM2_SM3_OID = "1.2.156.10197.1.501"
CHINA = timezone(timedelta(hours=8))
MAX_SIGNATURES = 100


class OfdSignError(SigningError):
    code = "ofd-sign"


@dataclass(frozen=True)
class SealSigner:
    """What `signing.seal.sign_document` needs to seal with: the seal, a key and certificate the
    seal lists, and optionally a time-stamper (`signing.seal.build.tsa_timestamper`)."""

    seal_der: bytes
    key: alg.PrivateKey
    cert: object                 # asn1crypto x509.Certificate or DER
    timestamper: Callable[[bytes], bytes] | None = None


@dataclass(frozen=True)
class Stamp:
    page_id: str
    box_mm: tuple[float, float, float, float]   # x, y (from the page's top-left), w, h
    clip: tuple[float, float, float, float] | None = None


def _num(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") or "0"


def _box(values) -> str:
    return " ".join(_num(v) for v in values)


def qname(tag: str) -> str:
    return f"{{{OFD_NS}}}{tag}"


def parse_xml(data: bytes, what: str) -> Element:
    try:
        return SafeET.fromstring(data)
    except Exception as exc:  # ParseError, DTDForbidden, EntitiesForbidden, …
        raise OfdSignError(f"{what} is not well-formed XML ({exc.__class__.__name__})",
                           f"{what} 不是格式正确的 XML") from None


def child_text(el: Element | None, tag: str) -> str | None:
    child = el.find(qname(tag)) if el is not None else None
    return child.text.strip() if child is not None and child.text else None


def resolve(base_dir: str, loc: str) -> str:
    loc = loc.strip()
    path = loc.lstrip("/") if loc.startswith("/") else base_dir + loc
    parts: list[str] = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if not parts:
                raise OfdSignError(f"location {loc[:100]!r} leaves the package",
                                   "文件路径超出了文件包")
            parts.pop()
        else:
            parts.append(seg)
    return "/".join(parts)


def directory_of(path: str) -> str:
    return path.rsplit("/", 1)[0] + "/" if "/" in path else ""


def signatures_path(files: dict[str, bytes]) -> str:
    """Where the first document's Signatures.xml is (or is to be), from OFD.xml."""
    ofd = files.get("OFD.xml")
    if ofd is None:
        raise OfdSignError("not an OFD package: no OFD.xml", "不是 OFD 文件：缺少 OFD.xml")
    body = parse_xml(ofd, "OFD.xml").find(qname("DocBody"))
    loc = child_text(body, "Signatures")
    if loc is None:
        raise OfdSignError("OFD.xml names no Signatures.xml; the document cannot be sealed "
                           "without changing OFD.xml", "OFD.xml 未指定 Signatures.xml，无法签章")
    return resolve("", loc)


def add_seal_signature(files: dict[str, bytes], signer: SealSigner, stamps: Iterable[Stamp],
                       when: datetime, *, provider: str = "license-svc") -> dict[str, bytes]:
    """`files` (name → bytes) with one more seal signature; `files` itself is not changed."""
    if when.tzinfo is None:
        raise OfdSignError("the signing time must be timezone-aware", "签章时间须带时区")
    listing_path = signatures_path(files)
    entries = _entries(files.get(listing_path), listing_path)
    if len(entries) >= MAX_SIGNATURES:
        raise OfdSignError(f"the document already has {len(entries)} signatures",
                           f"文档已有 {len(entries)} 个签名")
    sign_dir = _free_dir(files, directory_of(listing_path))
    out = dict(files)
    out.pop(listing_path, None)
    out[sign_dir + "Seal.esl"] = signer.seal_der
    refs = "".join(f'<ofd:Reference FileRef="/{_attr(name)}"><ofd:CheckValue>'
                   f'{base64.b64encode(alg.sm3(data)).decode()}</ofd:CheckValue></ofd:Reference>'
                   for name, data in out.items())
    annots = "".join(
        f'<ofd:StampAnnot ID="{i}" PageRef="{_attr(s.page_id)}" Boundary="{_box(s.box_mm)}"'
        + (f' Clip="{_box(s.clip)}"' if s.clip else "") + "/>"
        for i, s in enumerate(stamps, start=1))
    if not annots:
        raise OfdSignError("a seal signature needs a place on a page", "电子签章须指定盖章位置")
    sig_path = sign_dir + "Signature.xml"
    xml = (f'{HEAD}<ofd:Signature {NS}><ofd:SignedInfo>'
           f'<ofd:Provider ProviderName="{_attr(provider)}" Version="1" Company="license-svc"/>'
           f'<ofd:SignatureMethod>{SM2_SM3_OID}</ofd:SignatureMethod>'
           f'<ofd:SignatureDateTime>{when.astimezone(CHINA):%Y%m%d%H%M%S}</ofd:SignatureDateTime>'
           f'<ofd:References CheckMethod="{SM3_OID}">{refs}</ofd:References>{annots}'
           f'<ofd:Seal><ofd:BaseLoc>Seal.esl</ofd:BaseLoc></ofd:Seal></ofd:SignedInfo>'
           f'<ofd:SignedValue>/{sign_dir}SignedValue.dat</ofd:SignedValue></ofd:Signature>'
           ).encode("utf-8")
    value = sign_document(seal_der=signer.seal_der, signer_key=signer.key, signer_cert=signer.cert,
                          property_info="/" + sig_path, time=when, data=xml,
                          timestamper=signer.timestamper)
    out[sig_path] = xml
    out[sign_dir + "SignedValue.dat"] = value
    next_id = max([0] + [int(e[0]) for e in entries if e[0].isdigit()]) + 1
    entries.append((str(next_id), "Seal", "/" + sig_path))
    out[listing_path] = _listing(entries, next_id)
    return out


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def _entries(data: bytes | None, path: str) -> list[tuple[str, str, str]]:
    """(ID, Type, BaseLoc) of each signature Signatures.xml lists, as written."""
    if data is None:
        return []
    root = parse_xml(data, path)
    return [((s.get("ID") or "").strip(), (s.get("Type") or "Seal").strip(),
             (s.get("BaseLoc") or "").strip()) for s in root.findall(qname("Signature"))]


def _listing(entries: list[tuple[str, str, str]], max_id: int) -> bytes:
    rows = "".join(f'<ofd:Signature ID="{_attr(i)}" Type="{_attr(t)}" BaseLoc="{_attr(loc)}"/>'
                   for i, t, loc in entries)
    return (f'{HEAD}<ofd:Signatures {NS}><ofd:MaxSignId>{max_id}</ofd:MaxSignId>{rows}'
            '</ofd:Signatures>').encode("utf-8")


def _free_dir(files: dict[str, bytes], signs_dir: str) -> str:
    taken = {name.lower() for name in files}
    n = 0
    while any(t.startswith(f"{signs_dir}Sign_{n}/".lower()) for t in taken):
        n += 1
    return f"{signs_dir}Sign_{n}/"
