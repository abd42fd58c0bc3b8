"""Demo licences for `make run` (development only): each issuing organisation of the region
issues its types' example licences, and three go through the lifecycle, so the console, wallet
and verifier have something to show from the first start.

Once per holder, as in a real register: one licence of each type per example holder, signed
with the organisation's own algorithm (`ALGORITHM`: the civil affairs bureau signs with RSA, the
others with SM2, so both kinds of signature are there to verify) — not a second copy per
algorithm, which would give a holder two licences in force with the same number.

The example company's 营业执照 is revoked, not suspended: the README tour issues that very
example, which would otherwise be a duplicate of a licence in force.  Its 食品经营许可证 is
suspended and reinstated (the history shows both; the console has a licence in force to act
on), and the 结婚证 — the citizen's RSA licence in the wallet — is amended, in force.  A restart finds the demo
licences and seeds nothing; an example licence a holder already has in force (issued by hand
before the first start) is left as it is (`DuplicateLicence`).
"""

from __future__ import annotations

import copy
import json
import logging

from sqlalchemy import select

from license_svc.auth.clients import Client
from license_svc.demo_seed import demo_step
from license_svc.licences import issue as issuing
from license_svc.licences import amend, lifecycle
from license_svc.licences.errors import DuplicateLicence
from license_svc.licences.models import LicenceVersion
from license_svc.templates import load_templates

log = logging.getLogger(__name__)
DEMO_CLIENT = "demo-seed"
# organisation kind -> the algorithm its licence signer uses in the demo (default SM2)
ALGORITHM = {"civil_affairs": "rsa"}
# type -> what happens to its demo licence after issuance (driving licences stay in force: the
# grant demo, grants/demo.py, retrieves one)
LIFECYCLE = {"business_licence": "revoke", "food_business_licence": "suspend and reinstate",
             "marriage_certificate": "amend"}


@demo_step("issue demo licences")
def seed_licences(ctx, session) -> None:
    if session.scalar(select(LicenceVersion.id).where(LicenceVersion.region == ctx.region,
                                                      LicenceVersion.client_id == DEMO_CLIENT).limit(1)):
        return  # seeded on an earlier start
    templates = load_templates()
    made = []
    for org in ctx.keystore.organisations(ctx.region):
        actor = Client(client_id=DEMO_CLIENT, name="演示数据", org_code=org.code,
                       region=ctx.region, roles=frozenset({"issuer"}))
        for folder in org.licence_types:
            if folder not in templates:
                continue
            body = copy.deepcopy(templates[folder].example)
            body.update(issuer_code=org.code, algorithm=ALGORITHM.get(org.kind, "sm2"))
            try:
                version = issuing.issue_one(ctx, session, actor, body)
            except DuplicateLicence:  # refused before writing anything
                continue
            made.append(version.identifier)
            _lifecycle(ctx, session, actor, folder, version.identifier)
    log.info("demo licences issued", extra={"count": len(made), "region": ctx.region})


def _lifecycle(ctx, session, actor, folder: str, identifier: str) -> None:
    step = LIFECYCLE.get(folder)
    if step == "suspend and reinstate":
        lifecycle.suspend(ctx, session, identifier, actor, "演示：年报核查中")
        lifecycle.reinstate(ctx, session, identifier, actor, "演示：核查完毕")
    elif step == "revoke":
        lifecycle.revoke(ctx, session, identifier, actor, "演示：依法吊销")
    elif step == "amend":
        record = json.loads(lifecycle.load_version(session, identifier).record)
        amend.amend(ctx, session, identifier, actor, {"holders": record["holders"]}, "演示：换发")
