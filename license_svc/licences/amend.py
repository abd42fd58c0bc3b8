"""Amendment (变更): a new signed version of a licence, the old one kept and marked superseded.

It lives apart from `lifecycle` because it is issuance again (`issue.issue_one` with `previous`),
and issuance itself builds on `lifecycle`; here both are below, so neither imports the other back.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from license_svc import templates
from license_svc.licences.errors import LicenceDataInvalid
from license_svc.licences.issue import issue_one
from license_svc.licences.lifecycle import clean_reason, version_for_change
from license_svc.licences.models import LicenceVersion

AMENDABLE = ("holders", "valid_from", "valid_until", "fields", "algorithm")


def amend(ctx, session: Session, identifier: str, actor, changes: dict,
          reason: str | None = None) -> LicenceVersion:
    """A new signed version with `changes` applied ("fields" merged key by key, the rest
    replaced); the old version stays stored and verifiable, marked superseded."""
    if not isinstance(changes, dict) or not changes or set(changes) - set(AMENDABLE):
        raise LicenceDataInvalid(f"an amendment changes some of {', '.join(AMENDABLE)}",
                                 f"变更内容只能包含 {'、'.join(AMENDABLE)}")
    reason = clean_reason(reason, required=False)
    # The old version's "superseded" event is signed with its own algorithm's key.
    old = version_for_change(ctx, session, identifier, actor)
    record = json.loads(old.record)
    template = templates.by_type_code(old.type_code)
    request = {"type": template.folder, "issuer_code": old.issuer_code,
               "holders": record["holders"], "valid_from": record["valid_from"],
               "valid_until": record["valid_until"], "fields": dict(record["fields"]),
               "algorithm": old.algorithm}
    for key, value in changes.items():
        if key == "fields" and isinstance(value, dict):  # null removes an optional field
            request["fields"].update(value)
            request["fields"] = {k: v for k, v in request["fields"].items() if v is not None}
        else:
            request[key] = value
    return issue_one(ctx, session, actor, request, previous=old, reason=reason)
