"""An OFD package (GB/T 33190-2016) for one licence page: OFD.xml → Document.xml → the page,
its fonts and pictures, and the GB/T 36903 licence metadata as a custom tag file.

Package layout (the names ofdrw and most producers use):
  OFD.xml                         DocInfo (with the licence as CustomData), DocRoot, Signatures
  Doc_0/Document.xml              page area, resources, the page, CustomTags
  Doc_0/PublicRes.xml             fonts (embedded subsets, Res/font_N.ttf)
  Doc_0/DocumentRes.xml           pictures (Res/image_N.png|jpeg)
  Doc_0/Pages/Page_0/Content.xml  the page
  Doc_0/CustomTags.xml            → Doc_0/Tags/Licence.xml, the GB/T 36903 metadata
  Doc_0/Signs/…                   added by `signing.ofd.seal_signature`

The writer returns the files as a dict (name → bytes) so the seal signature can hash them
before they are zipped; `zip_package` writes them with OFD.xml first.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping
from xml.sax.saxutils import escape, quoteattr

from signing.ofd import fonts as ofd_fonts
from signing.ofd.page import FONT_IDS, FONT_NAMES, PageContent, mm

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
DOC_ROOT = "Doc_0/Document.xml"
SIGNATURES = "Doc_0/Signs/Signatures.xml"
PAGE = "Doc_0/Pages/Page_0/Content.xml"
PAGE_ID = 3
METADATA = "Doc_0/Tags/Licence.xml"
# Namespace of the metadata file (docs/ofd.md "Licence metadata"): GB/T 36903 elements under
# names of our own, since the standard defines the elements, not an XML vocabulary.
METADATA_NS = "urn:uuid:6f1d1f5e-36c3-4bd4-9c55-1f0cf1ad3690:gbt36903:1"
_FAMILY = {"F1": "Droid Sans Fallback", "F2": "Bitstream Vera Sans"}


@dataclass(frozen=True)
class Metadata:
    """GB/T 36903 电子证照元数据, as the licence's OFD carries it.  Holder codes arrive masked."""

    identifier: str
    type_code: str
    type_name: str
    number: str
    issuer_name: str
    issuer_code: str
    holders: tuple[tuple[str, str], ...]    # (name, masked code)
    valid_from: str
    valid_until: str | None
    issued_on: str
    version: int
    data_hash: str                          # SM3 of the signed record, hex
    title: str
    code: str = ""                          # the EL1 the page prints (CustomData license-svc.code)


def package_files(page: PageContent, meta: Metadata, created: datetime) -> dict[str, bytes]:
    """Every file of the unsigned package, in writing order."""
    font_files = {name: f"font_{FONT_IDS[name]}.ttf" for name, use in page.uses.items() if use.used}
    files = {
        "OFD.xml": _ofd_xml(meta, created),
        DOC_ROOT: _document_xml(page),
        "Doc_0/PublicRes.xml": _public_res(font_files),
        "Doc_0/DocumentRes.xml": _document_res(page),
        PAGE: _page_xml(page),
        "Doc_0/CustomTags.xml": (f'{HEAD}<ofd:CustomTags {NS}><ofd:CustomTag NameSpace='
                                 f'"{METADATA_NS}"><ofd:FileLoc>Tags/Licence.xml</ofd:FileLoc>'
                                 '</ofd:CustomTag></ofd:CustomTags>').encode(),
        METADATA: _metadata_xml(meta),
    }
    for name, file_name in font_files.items():
        files[f"Doc_0/Res/{file_name}"] = ofd_fonts.program(page.uses[name])
    for image in page.images:
        files[f"Doc_0/Res/{image.file_name}"] = image.data
    return files


def _ofd_xml(meta: Metadata, created: datetime) -> bytes:
    custom = "".join(f'<ofd:CustomData Name={quoteattr(k)}>{escape(str(v))}</ofd:CustomData>'
                     for k, v in _custom_data(meta).items())
    doc_id = uuid.uuid5(uuid.NAMESPACE_URL, f"license-svc:{meta.identifier}").hex
    return (f'{HEAD}<ofd:OFD {NS} Version="1.1" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
            f'<ofd:DocID>{doc_id}</ofd:DocID><ofd:Title>{escape(meta.title)}</ofd:Title>'
            f'<ofd:Author>{escape(meta.issuer_name)}</ofd:Author>'
            f'<ofd:Subject>{escape(meta.identifier)}</ofd:Subject>'
            f'<ofd:CreationDate>{created:%Y-%m-%d}</ofd:CreationDate>'
            f'<ofd:Creator>license-svc</ofd:Creator><ofd:CreatorVersion>1</ofd:CreatorVersion>'
            f'<ofd:CustomDatas>{custom}</ofd:CustomDatas></ofd:DocInfo>'
            f'<ofd:DocRoot>{DOC_ROOT}</ofd:DocRoot><ofd:Signatures>{SIGNATURES}</ofd:Signatures>'
            '</ofd:DocBody></ofd:OFD>').encode()


def _custom_data(meta: Metadata) -> dict[str, str]:
    """DocInfo/CustomData: which licence this file is — the OFD twin of the PDF's /LicenseSvc
    dictionary (docs/formats.md), read by the verifier to look up the licence's status."""
    data = {"license-svc.identifier": meta.identifier, "license-svc.data_hash": meta.data_hash,
            "license-svc.hash_alg": "SM3", "license-svc.version": str(meta.version)}
    if meta.code:
        data["license-svc.code"] = meta.code
    return data


def _metadata_xml(meta: Metadata) -> bytes:
    holders = "".join(f'<lic:持证主体><lic:名称>{escape(n)}</lic:名称><lic:代码>{escape(c)}'
                      '</lic:代码></lic:持证主体>' for n, c in meta.holders)
    until = escape(meta.valid_until) if meta.valid_until else "长期"
    return (f'{HEAD}<lic:电子证照元数据 xmlns:lic="{METADATA_NS}">'
            f'<lic:证照标识>{escape(meta.identifier)}</lic:证照标识>'
            f'<lic:证照类型代码>{escape(meta.type_code)}</lic:证照类型代码>'
            f'<lic:证照类型名称>{escape(meta.type_name)}</lic:证照类型名称>'
            f'<lic:证照编号>{escape(meta.number)}</lic:证照编号>'
            f'<lic:证照颁发机构>{escape(meta.issuer_name)}</lic:证照颁发机构>'
            f'<lic:证照颁发机构代码>{escape(meta.issuer_code)}</lic:证照颁发机构代码>'
            f'{holders}<lic:颁证日期>{escape(meta.issued_on)}</lic:颁证日期>'
            f'<lic:有效期起始日期>{escape(meta.valid_from)}</lic:有效期起始日期>'
            f'<lic:有效期截止日期>{until}</lic:有效期截止日期>'
            f'<lic:版本号>{meta.version}</lic:版本号>'
            f'<lic:数据摘要 算法="SM3">{meta.data_hash}</lic:数据摘要></lic:电子证照元数据>').encode()


def _document_xml(page: PageContent) -> bytes:
    return (f'{HEAD}<ofd:Document {NS}><ofd:CommonData><ofd:MaxUnitID>{page.next_id}'
            f'</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 {mm(page.width_mm)} '
            f'{mm(page.height_mm)}</ofd:PhysicalBox></ofd:PageArea>'
            '<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>'
            '<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes></ofd:CommonData>'
            f'<ofd:Pages><ofd:Page ID="{PAGE_ID}" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
            '<ofd:CustomTags>CustomTags.xml</ofd:CustomTags></ofd:Document>').encode()


def _public_res(font_files: Mapping[str, str]) -> bytes:
    entries = "".join(
        f'<ofd:Font ID="{FONT_IDS[name]}" FontName="{FONT_NAMES[name]}" '
        f'FamilyName="{_FAMILY[name]}"><ofd:FontFile>{file_name}</ofd:FontFile></ofd:Font>'
        for name, file_name in font_files.items())
    return f'{HEAD}<ofd:Res {NS} BaseLoc="Res"><ofd:Fonts>{entries}</ofd:Fonts></ofd:Res>'.encode()


def _document_res(page: PageContent) -> bytes:
    media = "".join(f'<ofd:MultiMedia ID="{i.id}" Type="Image" Format="{i.format}"><ofd:MediaFile>'
                    f'{i.file_name}</ofd:MediaFile></ofd:MultiMedia>' for i in page.images)
    body = f"<ofd:MultiMedias>{media}</ofd:MultiMedias>" if media else ""
    return f'{HEAD}<ofd:Res {NS} BaseLoc="Res">{body}</ofd:Res>'.encode()


def _page_xml(page: PageContent) -> bytes:
    return (f'{HEAD}<ofd:Page {NS}><ofd:Area><ofd:PhysicalBox>0 0 {mm(page.width_mm)} '
            f'{mm(page.height_mm)}</ofd:PhysicalBox></ofd:Area><ofd:Content>'
            f'<ofd:Layer ID="{PAGE_ID + 1}">{page.xml}</ofd:Layer></ofd:Content>'
            '</ofd:Page>').encode("utf-8")


def zip_package(files: Mapping[str, bytes]) -> bytes:
    """The package as a ZIP, OFD.xml first (readers and `verification.dispatch` look for it).
    Deflate level 1 (level 6 saved ~10% of the size for 3x the time); font programs stored as
    they are (deflating them was half the ZIP time for a quarter of the size)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name in sorted(files, key=lambda n: n != "OFD.xml"):
            z.writestr(name, files[name], compress_type=zipfile.ZIP_STORED
                       if name.endswith(".ttf") else zipfile.ZIP_DEFLATED)
    return buf.getvalue()
