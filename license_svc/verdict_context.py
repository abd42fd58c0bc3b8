"""Who and what a verified licence is about, in words a clerk reads: `report.about`.

Why in the service: the names are service knowledge the pure verifiers do not have — licence
type names (the templates), issuer and region names (the key store, config.REGIONS), the
templates' masking rules, and the licence record in this node's register.  The verdict itself
is policy over the report (verification.verdict); this module only gathers the facts it quotes.

Where each fact comes from, best first:
- this node's register (the licence record: type, number, holders, issuer, validity) when it
  issued the licence;
- the signed claims of an EL1 (already masked by the issuer's template rules): a scanned code's,
  or the one a PDF carries in its catalog (`/Code`), which the PDF verifier reports as
  `code_claims` only when it verifies under the issuer's signature and names this licence;
- the identifier (type and issuer codes) for a PDF from another region without such a code
  (made before 2026-12): the type and issuer are named, holder, number and validity stay
  unknown.
The validity is always the licence's own (`vf`/`vu` or the record's dates, 长期 when it has no
end), never the QR code's own expiry.  The status reason and date are the status source's: the
local register's last event, or the issuing region's signed status response; a signed status
list carries no reason, and then nothing is invented (the verdict says 原因未公布).

Holder names, holder codes and licence numbers are masked by the template's qr.json rules
(signing.qr.credentials.mask: the one rule the printed QR uses), then everything passes
formats.privacy, the one ID-number filter.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formats.identifier import IdentifierError, parse_identifier
from formats.privacy import mask_in
from license_svc.config import REGIONS
from license_svc.licences.lifecycle import STATUS_ZH
from license_svc.templates import TemplateError, by_type_code
from signing.qr.credentials import mask
from verification.report import Report

LONG_TERM = "长期"
# USCC characters 3-4 are the province of the registering authority (GB 32100).
PROVINCE_REGION = {"31": "sh", "32": "js", "33": "zj", "34": "ah"}


def register_record(session: Session | None, identifier: str | None) -> dict | None:
    """The licence record of `identifier` in this node's register, or None."""
    if session is None or not identifier:
        return None
    from license_svc.licences.models import LicenceVersion

    record = session.scalar(select(LicenceVersion.record).where(
        LicenceVersion.identifier == identifier))
    return json.loads(record) if record else None


def identifier_of(report: Report) -> str | None:
    ident = report.licence.get("id") or report.licence.get("identifier")
    return ident if isinstance(ident, str) and ident else None


def describe(report: Report, *, ks, session: Session | None, status: dict | None,
             at: datetime) -> dict | None:
    """Fill `report.about` (and `report.at`) for people; a report of no licence (a seal, a
    department's stamped document, an audit export) gets no `about`.  Returns the register's
    record it read (the audit needs the holder), or None."""
    report.at = at
    ident = identifier_of(report)
    if ident is None:
        return None
    claims = report.licence if "t" in report.licence else report.licence.get("code_claims") or {}
    record = register_record(session, ident)
    try:
        parsed = parse_identifier(ident)
        type_code, issuer_code, version = parsed.type_code, parsed.issuer_code, parsed.version
    except IdentifierError:
        type_code, issuer_code, version = claims.get("t"), claims.get("issuer_code"), claims.get("v")
    about: dict[str, Any] = {"identifier": ident, "type_code": type_code, "version": version}
    template = _template(type_code)
    about["type_name"] = template.name if template else (
        f"未登记的证照类型（{type_code}）" if type_code else None)
    if record is not None:
        _from_record(about, record, template)
    elif claims:
        _from_claims(about, claims, "qr" if claims is report.licence else "pdf_code")
    about["issuer_code"] = about.get("issuer_code") or issuer_code
    about["issuer_name"] = about.get("issuer_name") or _issuer_name(ks, report, issuer_code)
    region = about.get("region") or _issuer_region(ks, issuer_code)
    about["region"] = region
    about["region_name"] = REGIONS.get(region) if region else None
    about["validity"] = _validity(about)
    _status(about, report, status)
    report.about = mask_in({k: v for k, v in about.items() if v is not None})
    return record


def _template(type_code: str | None):
    if not type_code:
        return None
    try:
        return by_type_code(type_code)
    except TemplateError:
        return None


def _from_record(about: dict, record: dict, template) -> None:
    rules = (template.qr.get("mask", {}) if template is not None else {}) or {}
    holders = record.get("holders") or []
    about.update({
        "type_name": record.get("type_name") or about.get("type_name"),
        "number": mask(record["number"], rules.get("n", "none")) if record.get("number") else None,
        "holder": "、".join(mask(h["name"], rules.get("h", "none")) for h in holders) or None,
        "holder_code": "、".join(mask(h["code"], rules.get("hid", "none")) for h in holders)
        or None,
        "issuer_code": (record.get("issuer") or {}).get("code"),
        "issuer_name": (record.get("issuer") or {}).get("name"),
        "region": record.get("region"),
        "valid_from": record.get("valid_from"),
        "valid_until": record.get("valid_until"),
        "validity_known": True,
        "source": "register",
    })


def _from_claims(about: dict, claims: dict, source: str) -> None:
    """The EL1's own claims, masked by the issuer when it was printed."""
    about.update({
        "number": claims.get("n"), "holder": claims.get("h"),
        "holder_code": (claims.get("hid") or "").replace(",", "、") or None,
        "issuer_code": claims.get("issuer_code"), "region": claims.get("r"),
        "valid_from": claims.get("vf"), "valid_until": claims.get("vu"),
        "validity_known": "vf" in claims, "source": source,
    })


def _issuer_name(ks, report: Report, code: str | None) -> str | None:
    if report.signer.get("org_code") == code and report.signer.get("org_name"):
        return report.signer["org_name"]
    org = next((o for o in ks.organisations() if o.code == code), None) if code else None
    return org.name if org is not None else None


def _issuer_region(ks, code: str | None) -> str | None:
    if not code:
        return None
    org = next((o for o in ks.organisations() if o.code == code), None)
    return org.region if org is not None else PROVINCE_REGION.get(code[2:4])


def _validity(about: dict) -> str:
    if not about.pop("validity_known", False):
        return "未知（签发地登记不在本节点，请以证照原件或签发地核验为准）"
    start = about.get("valid_from") or "—"
    return f"{start} 至 {about.get('valid_until') or LONG_TERM}"


def _status(about: dict, report: Report, status: dict | None) -> None:
    code = report.licence.get("status")
    if not code:
        return
    about["status"] = code
    about["status_name"] = STATUS_ZH.get(code, "未知")
    if status is None or code not in ("suspended", "revoked"):
        return
    about["status_reason"] = status.get("reason")
    about["status_since"] = status.get("since")
    about["status_source"] = status.get("source")
