"""Shared helpers for the issuance, lifecycle, status and licence API tests (service, security,
page and interop tests alike); their fixtures `issuers` and `amr` are in tests/conftest.py.
Organisations and types come from the committed dev PKI (keys_dev/manifest.json).
"""

import copy
import json

from sqlalchemy import func, select

from license_svc.templates import load_templates

AMR_SH = "11310000MB0000010A"        # 上海市市场监督管理局: business, food business
TRAFFIC_SH = "11310000MB0000020B"    # 上海市公安局交通警察总队: driving licence
CIVIL_SH = "11310000MB0000030C"      # 上海市民政局: marriage certificate
ORG_TYPES = {AMR_SH: ["business_licence", "food_business_licence"],
             TRAFFIC_SH: ["driving_licence"], CIVIL_SH: ["marriage_certificate"]}


def example(folder: str, **changes) -> dict:
    """The template's own example request, with the issuer code left for the caller's org."""
    body = copy.deepcopy(load_templates()[folder].example)
    body.pop("issuer_code", None)
    body.update(changes)
    return body


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
