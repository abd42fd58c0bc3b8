"""The one place grant and retrieval code writes to the audit log (docs/formats.md).

Grant changes and retrievals — refusals included — are audited inside the transaction of the
action.  `audited_transaction` is that transaction: if the entry cannot be written (the audit
log refuses, or the database fails on the append or the commit), everything rolls back and the
caller gets `AuditUnavailable` (503) instead of a result, so nothing leaves the service
unrecorded.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from license_svc import audit
from license_svc.grants.errors import AuditUnavailable

log = logging.getLogger(__name__)


@contextmanager
def audited_transaction(ctx) -> Iterator[Session]:
    try:
        with ctx.unit_of_work() as session:
            yield session
    except (audit.AuditError, SQLAlchemyError) as exc:
        # The exception text may quote SQL, never parameters (engines hide them) and the log
        # formatter masks ID numbers anyway; operators need the cause.
        log.error("audit write or commit failed; action rolled back: %s", type(exc).__name__,
                  exc_info=True)
        raise AuditUnavailable() from exc


def record(ctx, session: Session, *, action: str, client, outcome: str = "success",
           holder_code: str | None = None, licence_id: str | None = None,
           matter_code: str | None = None, grant_id: str | None = None,
           legal_basis: str | None = None, operator: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """Append one entry: `client` (auth.Client) is the actor; the holder code becomes its keyed
    reference inside `audit.record` and goes no further.  The entry carries the request's
    X-Request-ID, which is how a department finds the entry of its retrieval."""
    # A citizen has no organisation code; the entry's actor still needs one (as licences do).
    audit.record(ctx, session, action=action, client=client,
                        org_code=client.org_code or "citizen", operator=operator, outcome=outcome,
                        licence_id=licence_id, holder_code=holder_code, purpose=matter_code,
                        legal_basis=legal_basis, grant_id=grant_id, detail=detail)
