"""Shared helpers for the issuance, lifecycle, status and licence API tests (service, security,
page and interop tests alike); their fixtures `issuers` and `amr` are in tests/conftest.py.
Organisations and types come from the committed dev PKI (keys_dev/manifest.json).
"""

import copy
import json

from sqlalchemy import func, select

from license_svc.templates import load_templates
from signing.devpki import citizen_id
from signing.x509 import uscc

AMR_SH = "11310000MB0000010A"        # 上海市市场监督管理局: business, food business
TRAFFIC_SH = "11310000MB0000020B"    # 上海市公安局交通警察总队: driving licence
CIVIL_SH = "11310000MB0000030C"      # 上海市民政局: marriage certificate
ORG_TYPES = {AMR_SH: ["business_licence", "food_business_licence"],
             TRAFFIC_SH: ["driving_licence"], CIVIL_SH: ["marriage_certificate"]}


def example(folder: str, nth: int = 0, **changes) -> dict:
    """The template's own example request, with the issuer code left for the caller's org.

    `nth` > 0: the same request for another holder (check-valid codes of the same kind; identity
    numbers keep the birth date and sex), so a test can issue several licences of one type
    without them being duplicates (docs/issuance.md "No duplicates")."""
    body = copy.deepcopy(load_templates()[folder].example)
    body.pop("issuer_code", None)
    for holder in body["holders"] if nth else ():
        holder["code"] = other_holder_code(holder["code"], nth)
    body.update(changes)
    return body


def other_holder_code(code: str, nth: int) -> str:
    """A check-valid code of the same kind as `code`: the nth other USCC (GB 32100) or identity
    number (GB 11643: same area, birth date and sex — the sequence number moves by 2·nth)."""
    if len(code) == 18 and code[:17].isdigit() and code[6:8] in ("19", "20"):
        seq = int(code[14:17]) + 2 * nth
        assert seq < 1000, "no more identity numbers with this birth date and sex"
        return citizen_id(code[:6], code[6:14], seq)
    return uscc(f"{code[:10]}{int(code[10:17]) + nth:07d}")


def issuer_for(folder: str) -> str | None:
    return next((org for org, types in ORG_TYPES.items() if folder in types), None)


def row_counts(ctx) -> dict:
    """Rows in every table issuance writes to: nothing may change on a refused request."""
    from license_svc.audit.models import AuditEntryRow
    from license_svc.licences.models import IdempotencyKey, LicenceEvent, LicenceVersion

    from license_svc import audit

    with ctx.unit_of_work() as session:
        audit.sequence_pending(session)  # count every committed audit entry, queued ones too
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m))
                for m in (LicenceVersion, LicenceEvent, IdempotencyKey, AuditEntryRow)}


def record_of(version) -> dict:
    return json.loads(version.record)
