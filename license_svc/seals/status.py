"""What this region's seal registry says about a seal: the status source the verifiers ask.

Apart from the registry because verification asks it (license_svc.verify_service) while the
registry's own verify route builds on the verification service; here both import it, neither the
other.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy.orm import Session

from formats.seal.parse import Seal
from license_svc.seals.models import SealRow


def seal_status(ctx, session: Session) -> Callable[[Seal], str | None]:
    """`status(seal)` for the seals this region's maker made ("active", "suspended",
    "revoked", "unknown"); None for another maker's seal: its own registry answers for it."""
    own_maker = ctx.keystore.credential(ctx.region, "seal_maker", "sm2").cert.dump()

    def status(seal: Seal) -> str | None:
        if seal.maker_cert != own_maker:
            return None
        row = session.get(SealRow, seal.es_id)
        if row is None or row.der != seal.der:
            return "unknown"
        return row.status
    return status
