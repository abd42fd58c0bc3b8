"""The two faces of a licence made from its signed record: the printed EL1 QR credential and
the certified, sealed PDF.  Both carry the identifier and the record's SM3 data hash (the PDF
in its `/LicenseSvc` catalog dictionary and footer, the QR through the identifier it signs),
so paper, file and code can be matched to one signed record (docs/issuance.md).  The PDF's
catalog also carries the EL1 text (`/Code`): another region's verifier, which does not hold the
record, learns holder, number and validity from it once the issuer's signature on it holds.

The OFD file (GB/T 33190, `signing.ofd`) is the same page sealed as an OFD document: made from
the stored record and EL1 the first time someone asks for it (`stored_ofd`) — or at issuance,
when the CLI is asked for it — and kept, so it costs nothing to issuances nobody wants it for."""

from __future__ import annotations

from datetime import datetime

import json

from sqlalchemy.orm import Session

from license_svc import templates
from license_svc.licences.models import LicenceOfd, LicenceVersion
from license_svc.licences.resources import ofd_signer
from license_svc.licences.seals import licence_seal, seal_der
from license_svc.licences.signer_check import usable_signer
from signing.ofd import licence_ofd
from signing.qr.credentials import el1_for_record
from signing.render import render_licence_pdf


def produce(template, record: dict, data_hash: str, signing, at: datetime) -> tuple[str, bytes]:
    """(EL1 text, signed PDF bytes) for `record`, signed by `signing` (resources.OrgSigning)."""
    cred = signing.credential
    el1 = el1_for_record(record, template.qr, cred.key, signing.cert_der, now=at)
    page = render_licence_pdf(template.layout, record, el1, data_hash=data_hash)
    pdf = signing.stamper.sign(page, {"id": record["identifier"], "data_hash": data_hash,
                                      "version": record["version"], "code": el1})
    return el1, pdf


def stored_ofd(ctx, session: Session, version: LicenceVersion) -> bytes:
    """The sealed OFD of `version`, made and stored (in the caller's transaction) on first use.
    Sealed now, with the issuing office's current licence seal and the organisation's SM2 key:
    refused (as issuance is) while the seal is suspended or revoked or the key withdrawn."""
    row = session.get(LicenceOfd, version.identifier)
    if row is not None:
        return row.ofd
    template = next(t for t in templates.load_templates().values()
                    if t.type_code == version.type_code)
    org = next(o for o in ctx.keystore.organisations(ctx.region) if o.code == version.issuer_code)
    record = json.loads(version.record)
    es_id = licence_seal(ctx, session, org, template, record)
    cred = usable_signer(ctx, session, org.code, "sm2")
    signer = ofd_signer(ctx, cred, es_id, lambda: seal_der(session, es_id))
    at = ctx.now()
    data = licence_ofd(template.layout, template.qr, record, version.el1,
                       version.data_hash, signer, at)
    session.add(LicenceOfd(identifier=version.identifier, ofd=data, made_at=at))
    session.flush()
    return data
