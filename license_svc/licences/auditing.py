"""The one place licence code writes to the audit log (docs/formats.md).

Every issuance, lifecycle change and retrieval of licence data or files calls `audit_licence`
inside the same transaction as the action, so a failed audit write rolls the action back (no
unaudited access).  The holder code goes to the audit module only to become its keyed
reference there; it is never logged or stored in clear by the audit log.
"""

from __future__ import annotations

from typing import Any

from license_svc import audit


def audit_licence(ctx, session, *, action: str, actor, identifier: str,
                  holder_code: str | None, outcome: str = "success",
                  purpose: str | None = None, legal_basis: str | None = None,
                  channel: str = "api", detail: dict[str, Any] | None = None) -> int:
    """Append one entry for `action` on `identifier` by `actor` (an auth Client); returns its index."""
    # A citizen client has no organisation; the entry still needs an actor org (audit schema).
    org_code = actor.org_code or "citizen"
    return audit.record(ctx, session, action=action, client=actor, org_code=org_code, outcome=outcome,
                        licence_id=identifier,
                        holder_code=holder_code, purpose=purpose, legal_basis=legal_basis,
                        channel=channel, detail=detail)


def audit_holder_ref(ctx, holder_code: str) -> str:
    """The region's keyed holder reference, shared by licence rows and audit entries."""
    return audit.holder_reference(ctx, holder_code)
