"""OFD licences issued in a test database, for the OFD licence tests (service, interop)."""

from __future__ import annotations

from license_svc.licences import artefacts
from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle
from license_svc.templates import load_templates
from tests.support.issuing import ORG_TYPES, example, issuer_for


def issuer(issuers, folder: str):
    return issuers[issuer_for(folder)]


def issue_both(ctx, issuers, folder: str, algorithm: str = "sm2"):
    """(version, pdf, ofd) of one licence of `folder` in `algorithm`."""
    actor, _ = issuer(issuers, folder)
    ident = issuing.issue(ctx, actor, example(folder, algorithm=algorithm)).identifiers[0]
    with ctx.unit_of_work() as session:
        version = lifecycle.load_version(session, ident)
        ofd = artefacts.stored_ofd(ctx, session, version)
    return version, version.pdf, ofd


FOLDERS = sorted(load_templates())
assert set(FOLDERS) <= {f for types in ORG_TYPES.values() for f in types}
