"""The scenario list (应用场景清单, yrd-scenarios/1) as a node uses it: which matters (事项) the
Delta recognises, the licence types each accepts and the regions offering it — and the check
every retrieval goes through (`check_matter`).

Why the list limits retrieval: the Delta consensus names the application scenarios in which a
licence may stand in for paper.  A department retrieving a licence "for a matter" is only as
legitimate as that matter, so the matter must be on the federation-signed list, offered by the
requesting department's region, and accept the licence type asked for.  The list is signed by
the federation root and checked against the pinned root every time it is used (a row edited in
the database, or a stale list, is not used).

Where the list comes from, first that verifies as of now wins:
1. the synced copy (`federation_synced`, kind "scenarios": from a peer, the store's file, or
   this node's own publication — `license_svc.federation.sync`);
2. this node's own latest publication (a node holding the federation root key);
3. `<keys_dir>/scenarios.json` (written by `dev-pki export`);
4. on a node holding the federation root key with nothing signed yet, the development content
   itself (license_svc/federation/scenarios_dev.json) — the node is the list's signer.
None of them: retrievals are refused with 503 `scenario-list-unavailable` (try later) rather
than allowed unchecked.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from formats.errors import Kind
from license_svc.federation.models import PublishedList, SyncedList
from license_svc.federation.publish import (FEDERATION_REGION, KIND_SCENARIOS, SCENARIOS_FILE,
                                            can_sign_federation, scenario_content)
from license_svc.federation.sync import pinned_roots
from license_svc.grants.errors import RetrievalRefused
from verification.scenarios import Matter, matters_of, verify_scenario_list
from verification.trustlist import DEFAULT_GRACE, DEFAULT_SKEW

SCENARIOS_PATH = "/api/v1/scenarios"
SIGNED_PATH = "/api/v1/scenarios/signed"

# reason: (English, 中文), like retrieval.REFUSALS
REFUSALS = {
    "matter-not-listed": ("the matter is not on the federation's scenario list, or not offered by "
                          "your region", "该办理事项不在长三角应用场景清单中，或本地区未开通该事项"),
    "type-not-for-matter": ("the scenario list does not accept this licence type for this matter",
                            "应用场景清单中该事项不接受此类证照"),
}


class MatterRefused(RetrievalRefused):
    """403 retrieval-refused with reason matter-not-listed / type-not-for-matter."""

    def __init__(self, reason: str):
        en, zh = REFUSALS[reason]
        super().__init__(reason, en, zh)


class ScenarioListUnavailable(RetrievalRefused):
    """No scenario list that verifies now: nothing can be checked, so nothing is retrieved."""

    code = "scenario-list-unavailable"
    kind = Kind.UNAVAILABLE
    title_zh = "暂无有效的应用场景清单，请稍后重试"
    title_en = "No valid scenario list on this node: try later"

    def __init__(self):
        super().__init__("scenario-list-unavailable",
                         "this node holds no scenario list that verifies now (not yet synced, or "
                         "stale beyond the grace)",
                         "本节点没有当前有效的应用场景清单（尚未同步或已过期超过宽限期）")


@dataclass(frozen=True)
class HeldScenarios:
    """The list a node uses now."""

    matters: tuple[Matter, ...]
    source: str                      # synced | published | file | development
    sequence: int | None = None
    issued_at: datetime | None = None
    next_update: datetime | None = None

    def matter(self, code: str) -> Matter | None:
        return next((m for m in self.matters if m.matter_code == code), None)

    def as_list(self) -> list[dict]:
        return [m.as_dict() for m in self.matters]


def _checked(ctx, text: bytes, roots: list[bytes], at: datetime, grace: timedelta,
             source: str) -> HeldScenarios | None:
    """`text` as a list usable at `at`, or None.  The signature and shape are checked once per
    envelope (kept in ctx.caches by its digest and the roots: a retrieval must not pay an SM2
    verification each time, and a list changes only when re-signed); freshness on every use."""
    key = ("scenarios.verified", source, hashlib.sha256(text).hexdigest(),
           hashlib.sha256(b"".join(sorted(roots))).hexdigest())

    def build() -> HeldScenarios | None:  # None is not kept: checked again next time
        result = verify_scenario_list(text, roots, at, grace=grace)
        if not result.ok:
            return None
        return HeldScenarios(tuple(matters_of(result.payload)), source, result.sequence,
                             result.issued_at, result.next_update)
    held = ctx.caches.get(key, build)
    if held is None or held.issued_at > at + DEFAULT_SKEW or at > held.next_update + grace:
        return None
    return held


def scenarios_file(ctx) -> Path | None:
    path = Path(ctx.settings.keys_dir) / SCENARIOS_FILE
    return path if path.is_file() else None


def held_scenarios(ctx, session: Session, at: datetime | None = None,
                   grace: timedelta = DEFAULT_GRACE) -> HeldScenarios | None:
    """The scenario list this node uses as of `at` (module docstring: where from), or None."""
    at = at or ctx.now()
    roots = pinned_roots(ctx.keystore)
    row = session.get(SyncedList, (KIND_SCENARIOS, FEDERATION_REGION))
    if row is not None and (held := _checked(ctx, row.envelope.encode("utf-8"), roots, at, grace, "synced")):
        return held
    signs = can_sign_federation(ctx.keystore)
    if signs:
        own = session.scalar(select(PublishedList).where(
            PublishedList.kind == KIND_SCENARIOS, PublishedList.region == FEDERATION_REGION)
            .order_by(PublishedList.sequence.desc()).limit(1))
        if own is not None and (held := _checked(ctx, own.envelope.encode("utf-8"), roots, at, grace,
                                                 "published")):
            return held
    path = scenarios_file(ctx)
    if path is not None:
        try:
            text = path.read_bytes()
        except OSError:
            text = None
        if text is not None and (held := _checked(ctx, text, roots, at, grace, "file")):
            return held
    if signs:
        return HeldScenarios(tuple(matters_of(scenario_content())), "development")
    return None


def check_matter(ctx, matter_code: str, type_code: str, requesting_region: str, *,
                 session: Session | None = None) -> Matter:
    """The listed matter a retrieval of a `type_code` licence for `matter_code`, asked by a
    department of `requesting_region`, runs under.  Raises `MatterRefused` (403: not listed or
    not offered by that region; type not accepted) or `ScenarioListUnavailable` (503).

    One function so that every kind of retrieval — this region's, and another region's asked
    through the federation — applies the same rule."""
    if session is None:
        with ctx.unit_of_work() as own:
            held = held_scenarios(ctx, own)
    else:
        held = held_scenarios(ctx, session)
    if held is None:
        raise ScenarioListUnavailable()
    matter = held.matter(matter_code)
    if matter is None or requesting_region not in matter.regions:
        raise MatterRefused("matter-not-listed")
    if type_code not in matter.licence_types:
        raise MatterRefused("type-not-for-matter")
    return matter


def signed_body(ctx, session: Session) -> tuple[bytes, int] | None:
    """The signed list this node passes on when it cannot sign one: its synced copy, else the
    store's file (peers check either against the pinned root)."""
    row = session.get(SyncedList, (KIND_SCENARIOS, FEDERATION_REGION))
    if row is not None:
        return row.envelope.encode("utf-8"), row.sequence
    path = scenarios_file(ctx)
    if path is not None:
        try:
            body = path.read_bytes()
            return body, json.loads(body)["payload"]["sequence"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
    return None
