"""The index columns of an audit-log leaf: what a log database may copy out of a leaf for its
searches (holder's access log, auditor's search) and nothing else.

Why here: the columns are only lookups, but a lookup that disagrees with the signed leaf
hides the entry from whoever searches by it (issue 14 item 4: a queued row's `holder_ref`
rewritten before sequencing took a retrieval out of the holder's access log, and nothing
noticed).  The sequencer derives the columns from the leaf with this function and the offline
verifier (`verification.audit`) recomputes them from the exported leaf, so both sides agree
on one definition.
"""

from __future__ import annotations

import json
from typing import Any

INDEX_COLUMNS = ("time", "action", "outcome", "actor_org", "licence_id", "holder_ref")


class LeafColumnsError(ValueError):
    """The leaf is not an audit entry whose columns can be read."""


def index_columns(leaf: bytes) -> dict[str, Any]:
    """The columns of `leaf` (canonical JSON of an entry, docs/formats.md): `time` as the
    leaf's RFC 3339 string, the others as strings or None."""
    try:
        entry = json.loads(leaf)
    except ValueError as exc:
        raise LeafColumnsError(f"leaf is not JSON: {exc}") from None
    actor = entry.get("actor") if isinstance(entry, dict) else None
    if not isinstance(actor, dict):
        raise LeafColumnsError("leaf has no actor object")
    columns = {"time": entry.get("time"), "action": entry.get("action"),
               "outcome": entry.get("outcome"), "actor_org": actor.get("org_code"),
               "licence_id": entry.get("licence_id"), "holder_ref": entry.get("holder_ref")}
    for name, value in columns.items():
        required = name in ("time", "action", "outcome", "actor_org")
        if not (isinstance(value, str) or (value is None and not required)):
            raise LeafColumnsError(f"leaf field {name} is {type(value).__name__}, not a string")
    return columns
