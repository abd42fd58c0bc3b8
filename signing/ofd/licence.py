"""A licence as an OFD file: the page the PDF shows (`page.licence_page`), the GB/T 36903
metadata (`writer`), and the organisation's seal signature with the seal picture at the
layout's seal box (`seal_signature`)."""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

from signing.ofd.page import licence_page
from signing.ofd.seal_signature import SealSigner, Stamp, add_seal_signature
from signing.ofd.writer import PAGE_ID, Metadata, package_files, zip_package
from signing.qr.credentials import mask
from signing.render.pdf import MM, page_size, seal_rect


def metadata(record: Mapping, data_hash: str, qr_rules: Mapping, code: str = "") -> Metadata:
    """The record's GB/T 36903 elements; holder codes (and names, where the template says so)
    masked by the template's QR rules, which decide what a stranger holding the file may read."""
    rules = qr_rules.get("mask", {})
    return Metadata(
        identifier=record["identifier"], type_code=record["type_code"],
        type_name=record.get("type_name", ""),
        number=mask(record["number"], rules.get("n", "none")),
        issuer_name=record["issuer"]["name"], issuer_code=record["issuer"]["code"],
        holders=tuple((mask(h["name"], rules.get("h", "none")),
                       mask(h["code"], rules.get("hid", "none"))) for h in record["holders"]),
        valid_from=record["valid_from"], valid_until=record.get("valid_until"),
        issued_on=record.get("issued_on", ""), version=int(record["version"]),
        data_hash=data_hash, title=f"{record.get('type_name', '')} {record['identifier']}".strip(),
        code=code)


def seal_box_mm(layout: Mapping) -> tuple[float, float, float, float]:
    """The layout's seal box as OFD wants it: x, y from the top-left, width, height (mm)."""
    x1, y1, x2, y2 = seal_rect(layout)
    page_h = page_size(layout)[1]
    return (x1 / MM, (page_h - y2) / MM, (x2 - x1) / MM, (y2 - y1) / MM)


def licence_ofd(layout: Mapping, qr_rules: Mapping, record: Mapping, qr_text: str,
                data_hash: str, signer: SealSigner, at: datetime) -> bytes:
    """The sealed OFD package of one licence."""
    page = licence_page(layout, record, qr_text, data_hash=data_hash)
    files = package_files(page, metadata(record, data_hash, qr_rules, qr_text), at)
    signed = add_seal_signature(files, signer, [Stamp(str(PAGE_ID), seal_box_mm(layout))], at)
    return zip_package(signed)
