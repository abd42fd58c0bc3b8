"""Demo licences for `make run` (development only): each issuing organisation of the region
issues its types' example licences with SM2 and RSA, and a few go through the lifecycle, so the
console, wallet and verifier have something to show from the first start."""

from __future__ import annotations

import copy
import json
import logging

from sqlalchemy import func, select

from license_svc.auth.clients import Client
from license_svc.demo_seed import demo_step
from license_svc.licences import issue as issuing
from license_svc.licences import amend, lifecycle
from license_svc.licences.models import LicenceVersion
from license_svc.templates import load_templates

log = logging.getLogger(__name__)
DEMO_CLIENT = "demo-seed"


@demo_step("issue demo licences")
def seed_licences(ctx, session) -> None:
    if session.scalar(select(func.count()).select_from(LicenceVersion)
                      .where(LicenceVersion.region == ctx.region)):
        return  # seeded on an earlier start
    templates = load_templates()
    made = []
    for org in ctx.keystore.organisations(ctx.region):
        actor = Client(client_id=DEMO_CLIENT, name="演示数据", org_code=org.code,
                       region=ctx.region, roles=frozenset({"issuer"}))
        for folder in org.licence_types:
            if folder not in templates:
                continue
            for algorithm in ("sm2", "rsa"):
                body = copy.deepcopy(templates[folder].example)
                body.update(issuer_code=org.code, algorithm=algorithm)
                made.append((actor, issuing.issue_one(ctx, session, actor, body).identifier))
    if len(made) >= 3:
        (a1, first), (a2, second), (a3, third) = made[:3]
        lifecycle.suspend(ctx, session, first, a1, "演示：年报核查中")
        lifecycle.revoke(ctx, session, second, a2, "演示：依法吊销")
        record = json.loads(lifecycle.load_version(session, third).record)
        amend.amend(ctx, session, third, a3, {"holders": record["holders"]}, "演示：换发")
    log.info("demo licences issued", extra={"count": len(made), "region": ctx.region})

