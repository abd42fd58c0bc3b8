"""The federation's scenario list (应用场景清单, "yrd-scenarios/1") as a verifier sees it: which
matters (事项) the Delta recognises, the licence types each accepts and the regions offering it.

Why a signed list and not configuration: a retrieval across the Delta is only as legitimate as
the matter it is for, and every node must refuse the same things.  The federation root signs
the list (like the list of lists), nodes pass it on, and each checks it against its pinned root
— so no node, and no one between two nodes, can widen what a matter may fetch.

The checks are the trust lists' (`verification.trustlist`, registered there as a list kind):
envelope, signer = pinned federation root, signature, schema, shape (below), signer validity,
sequence (rollback), freshness with grace.  Anything malformed is TOTAL_FAILED /
FORMAT_FAILURE, never an exception.  Pure: the time `at` and the roots come in as arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from verification import trustlist as tl

SCENARIOS_SCHEMA = "yrd-scenarios/1"
KIND_SCENARIOS = "scenarios"
MAX_MATTERS = 2000
MAX_TYPES = 64
MAX_REGIONS = tl.MAX_REGIONS
# The service's matter code syntax (license_svc/grants/fields.py MATTER_CODE), repeated here
# because the verifier must not import the service.
MATTER_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-_.]{0,63}$")
TYPE_CODE = re.compile(r"^[0-9A-Z]{1,64}$")


@dataclass(frozen=True)
class Matter:
    """One matter of a verified list."""

    matter_code: str
    name: str
    licence_types: tuple[str, ...]
    regions: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"matter_code": self.matter_code, "name": self.name,
                "licence_types": list(self.licence_types), "regions": list(self.regions)}


def _codes(value, what: str, pattern: re.Pattern, limit: int) -> tuple[str, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= limit:
        raise tl.Malformed(f"{what} must list 1..{limit} codes")
    if len(set(map(repr, value))) != len(value):
        raise tl.Malformed(f"{what} has duplicates")
    for i, v in enumerate(value):
        if not isinstance(v, str) or not pattern.match(v):
            raise tl.Malformed(f"{what}[{i}] is not a valid code")
    return tuple(value)


def matters_of(payload: dict) -> list[Matter]:
    """The matters of a scenario list payload; `trustlist.Malformed` when any is ill-formed."""
    matters = payload.get("matters")
    if not isinstance(matters, list) or not 1 <= len(matters) <= MAX_MATTERS:
        raise tl.Malformed(f"matters must be a list of 1..{MAX_MATTERS}")
    out, seen = [], set()
    for i, m in enumerate(matters):
        where = f"matters[{i}]"
        if not isinstance(m, dict):
            raise tl.Malformed(f"{where} must be an object")
        code = m.get("matter_code")
        if not isinstance(code, str) or not MATTER_CODE.match(code) or code in seen:
            raise tl.Malformed(f"{where}.matter_code must be a unique matter code "
                               "(1-64 characters of 0-9 A-Z a-z - _ .)")
        seen.add(code)
        out.append(Matter(code, tl.check_text(m.get("name"), f"{where}.name"),
                          _codes(m.get("licence_types"), f"{where}.licence_types", TYPE_CODE, MAX_TYPES),
                          _codes(m.get("regions"), f"{where}.regions", tl._REGION, MAX_REGIONS)))
    return out


def _body(payload: dict) -> list:
    matters_of(payload)
    return []


tl.register_kind(KIND_SCENARIOS, SCENARIOS_SCHEMA, _body, root_signed=True)


def verify_scenario_list(envelope, roots: Iterable, at: datetime, *,
                         known_sequence: int | None = None, grace: timedelta = tl.DEFAULT_GRACE,
                         skew: timedelta = tl.DEFAULT_SKEW) -> tl.ListResult:
    """Check a scenario list (an envelope dict, or its JSON bytes) against the pinned federation
    root certificate(s), as of `at`.  The payload is handed back only when the list is authentic
    and well formed (`result.payload`; its matters: `matters_of(result.payload)`)."""
    return tl.verify_list(KIND_SCENARIOS, envelope, roots, at, known_sequence=known_sequence,
                          grace=grace, skew=skew)
