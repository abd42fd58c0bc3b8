"""Demo grant and retrievals for `make run` (development only): the holder of a demo driving
licence authorises the region's dev relying department for one matter, the department
retrieves the licence under that grant, tries once more (refused: the grant was for one use),
and checks it under a legal basis — so the holder's access log (`GET /api/v1/holders/me/access-log`
with the dev citizen's key) and the auditor's search show something from the first start."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy import select

from license_svc.auth.clients import Client, list_clients
from license_svc.demo_seed import demo_step
from license_svc.grants import grants, retrieval
from license_svc.grants.models import Grant
from license_svc.licences.models import LicenceVersion
from license_svc.templates import load_templates

log = logging.getLogger(__name__)
DEMO_CLIENT = "demo-seed"
MATTER = "YRD000-003-0001"  # 机动车驾驶证异地换领: on the dev scenario list for every region
LEGAL_BASIS = "《中华人民共和国行政许可法》第三十四条（演示）"


@demo_step("grant and retrieve a demo licence")
def seed_grant(ctx, session) -> None:
    if session.scalar(select(Grant.id).where(Grant.created_by == DEMO_CLIENT).limit(1)):
        return  # seeded on an earlier start
    driving = load_templates()["driving_licence"].type_code
    licence = session.scalars(select(LicenceVersion).where(  # one in force (unique_key set)
        LicenceVersion.region == ctx.region, LicenceVersion.type_code == driving,
        LicenceVersion.unique_key.is_not(None)).order_by(LicenceVersion.id)).first()
    departments = [c for c, disabled in list_clients(session)
                   if not disabled and c.region == ctx.region and c.has_role("relying")]
    # the dev relying client of keys_dev/clients.json if there is one
    department = next((c for c in departments if c.client_id == f"{ctx.region}-relying"),
                      departments[0] if departments else None)
    if licence is None or department is None:
        log.info("no demo grant: needs a demo driving licence and a relying client")
        return
    holder = json.loads(licence.record)["holders"][0]
    citizen = Client(client_id=DEMO_CLIENT, name="演示持证人", org_code="", region=ctx.region,
                     roles=frozenset({"citizen"}), holder_code=holder["code"])
    grant = grants.create_grant(ctx, session, citizen, {
        "grantee_org": department.org_code, "licence_type": "driving_licence", "matter_code": MATTER,
        "valid_until": (ctx.now() + timedelta(days=30)).isoformat(), "max_uses": 1})
    request = {"holder_code": holder["code"], "holder_code_type": holder["code_type"],
               "licence_type": "driving_licence", "matter_code": MATTER, "operator": "演示经办人"}
    outcomes = [retrieval.attempt(ctx, session, department, {**request, "grant_id": grant.id, "want": "data"}),
                retrieval.attempt(ctx, session, department, {**request, "grant_id": grant.id, "want": "data"}),
                retrieval.attempt(ctx, session, department, {**request, "legal_basis": LEGAL_BASIS,
                                                             "want": "verify"})]
    log.info("demo grant and retrievals", extra={"grant": grant.id, "outcomes": [
        getattr(o, "reason", None) or type(o).__name__ for o in outcomes]})
