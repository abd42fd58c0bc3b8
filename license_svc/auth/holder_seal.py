"""A signed-in citizen's ID number in the page session, encrypted (SM4-GCM) under a key of
this node, so that a copy of `web_sessions` (a backup, a replica, a support dump) names no one.

The session needs the number itself, not only the keyed holder reference the licences table
uses: the citizen's client acts as a holder everywhere an API-key citizen does (grants name the
holder code's type, entries about a licence with several holders name the acting spouse, /me
shows the masked number).  The key is derived from the region's holder-reference secret
(license_svc/audit/holder.py) with its own label: the same secret already protects holders'
ID numbers, is provisioned and backed up with the node, and a lost or rotated secret ends the
sessions, which is harmless.  The sealed value is bound to the session's client id, itself
derived from the holder reference, so it cannot be moved to another citizen's session.
"""

from __future__ import annotations

import base64

from formats.algorithms import sm4
from license_svc.audit.holder import HolderKey, hmac_sm3, load_holder_key

_LABEL = b"web-session/holder-code/v1\x00"


def _key(ctx) -> bytes:
    secret = ctx.caches.get(HolderKey, lambda: load_holder_key(ctx.settings)).secret
    return hmac_sm3(secret, _LABEL)[:sm4.KEY_BYTES]


def seal(ctx, holder_code: str, client_id: str) -> str:
    sealed = sm4.seal(_key(ctx), holder_code.encode("utf-8"), client_id.encode("utf-8"))
    return base64.urlsafe_b64encode(sealed).decode("ascii")


def unseal(ctx, sealed: str, client_id: str) -> str | None:
    """The holder code, or None (altered, another session's, or the node's secret changed)."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    code = sm4.open_sealed(_key(ctx), raw, client_id.encode("utf-8"))
    return None if code is None else code.decode("utf-8")
