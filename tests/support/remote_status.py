"""The issuing region's signed status, as another region's node would fetch it: a StatusCache
whose fetchers read this context's register through the same functions the federation routes
serve (`signed_status`, `signed_status_list`) — for tests that verify "in Jiangsu" a licence
issued in Shanghai without a second node."""

from __future__ import annotations

from license_svc.licences import status as signed
from license_svc.verify_service import VerifierTrust, verifier_trust
from verification.status import StatusCache


def remote_status(ctx, clock) -> tuple[VerifierTrust, StatusCache]:
    def fetch_response(_region, identifier):
        with ctx.unit_of_work() as s:
            return signed.signed_status(ctx, s, identifier)

    def fetch_list(_region, list_id):
        _r, issuer, part = list_id.rsplit("-", 2)
        with ctx.unit_of_work() as s:
            return signed.signed_status_list(ctx, s, issuer, int(part))

    trust = verifier_trust(ctx.keystore)
    return trust, StatusCache(trust.status, clock=clock, fetch_list=fetch_list,
                              fetch_response=fetch_response)
