"""The two faces of a licence made from its signed record: the printed EL1 QR credential and
the certified, sealed PDF.  Both carry the identifier and the record's SM3 data hash (the PDF
in its `/LicenseSvc` catalog dictionary and footer, the QR through the identifier it signs),
so paper, file and code can be matched to one signed record (DESIGN §4)."""

from __future__ import annotations

from datetime import datetime

from signing.qr.credentials import el1_for_record
from signing.render import render_licence_pdf


def produce(template, record: dict, data_hash: str, signing, at: datetime) -> tuple[str, bytes]:
    """(EL1 text, signed PDF bytes) for `record`, signed by `signing` (resources.OrgSigning)."""
    cred = signing.credential
    el1 = el1_for_record(record, template.qr, cred.key, signing.cert_der, now=at)
    page = render_licence_pdf(template.layout, record, el1, data_hash=data_hash)
    pdf = signing.stamper.sign(page, {"id": record["identifier"], "data_hash": data_hash,
                                      "version": record["version"]})
    return el1, pdf
