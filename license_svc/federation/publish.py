"""What this node publishes (docs/federation.md): its region's signed trust list and, where the node holds
the federation root key (development), the signed federation list of lists.

A list is re-signed only when its content changes or half its validity has passed, so between
those moments every request gets the same bytes and the same ETag (peers then sync with a 304),
and each new signing takes the next `sequence` (peers reject a lower one as a rollback).

Trust list content comes from the key store (every certificate of the roles a peer verifies
against: licence signers, seal maker, TSA, status signer, node, audit log), the operator's
withdrawals, and the previous publication: an entry that disappears from the key store (a
rotated key) stays listed as withdrawn from the moment it disappeared, so what it signed before
still verifies in other regions.  Recognised licence types are the type codes of the templates
whose `template.json` says `"recognised": true`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from license_svc.federation.models import KIND_FEDERATION, KIND_TRUST_LIST, PublishedList, Withdrawal
from formats.canonical_json import canonical_json
from license_svc.licences.record import iso_time
from formats.envelope import sign_envelope
from formats.errors import ServiceError, SigningError
from verification.trustlist import ENTRY_ROLES, LOTL_SCHEMA, TRUST_LIST_SCHEMA

TRUST_LIST_VALIDITY = timedelta(hours=24)
FEDERATION_VALIDITY = timedelta(days=7)
# The federation list written next to an exported one-region key store (`dev-pki export`): long
# enough that a development federation keeps running for a month without re-exporting.
FEDERATION_FILE = "federation.json"
FEDERATION_FILE_VALIDITY = timedelta(days=30)
FEDERATION_REGION = "federation"
DEFAULT_NODE_URL = "https://license-svc.{region}.yrd-dev.invalid"


class FederationError(ServiceError):
    code = "federation"


@dataclass(frozen=True)
class Published:
    """A signed list as served: the exact body bytes and their ETag."""

    envelope: dict
    body: bytes
    etag: str
    sequence: int

    @classmethod
    def from_row(cls, row: PublishedList) -> "Published":
        body = row.envelope.encode("utf-8")
        return cls(json.loads(body), body, row.etag, row.sequence)


def etag_of(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


# -- content ----------------------------------------------------------------------------------

def recognised_types(templates: dict | None = None) -> list[str]:
    from license_svc.templates import load_templates

    templates = load_templates() if templates is None else templates
    return sorted({t.type_code for t in templates.values() if t.recognised})


def _licence_types_by_org(ks, region: str) -> dict[str, list[str]]:
    """org code → the GB/T 36904 type codes of the licence types it issues (the key store names
    template folders; identifiers and other regions speak type codes)."""
    from license_svc.templates import load_templates

    codes = {folder: t.type_code for folder, t in load_templates().items()}
    return {org.code: sorted(codes[f] for f in org.licence_types if f in codes)
            for org in ks.organisations(region)}


def _cert_sha256(cert) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def trust_list_entries(ks, region: str, withdrawals: dict[str, Withdrawal],
                       previous: dict | None, now: datetime) -> list[dict]:
    """Entries for `region`'s trust list, sorted so equal content gives equal bytes."""
    entries: dict[str, dict] = {}
    types = _licence_types_by_org(ks, region)
    for item in ks.items(region):
        if item["role"] not in ENTRY_ROLES or item.get("status") not in (None, "valid"):
            continue
        cert = ks.certificate(item["id"])
        entries[_cert_sha256(cert)] = {
            "role": item["role"], "org_name": item.get("org_name") or "",
            "org_code": item.get("org_code") or "", "algorithm": item["algorithm"],
            "cert": base64.b64encode(cert.dump()).decode(), "status": "granted",
            "since": iso_time(cert.not_valid_before)}
        if item["role"] == "licence_signer":
            # What this organisation may issue: a verifier in another region binds the
            # licence type inside an identifier to its signer with it (verification.listing).
            entries[_cert_sha256(cert)]["licence_types"] = types.get(item.get("org_code"), [])
    for old in (previous or {}).get("entries", []):
        digest = hashlib.sha256(base64.b64decode(old["cert"])).hexdigest()
        if digest not in entries:
            kept = dict(old)
            if kept["status"] == "granted":
                kept.update(status="withdrawn", since=iso_time(now))
            entries[digest] = kept
    for digest, w in withdrawals.items():
        if digest in entries:
            entries[digest].update(status="withdrawn", since=iso_time(w.since))
    return sorted(entries.values(), key=lambda e: (e["role"], e["org_code"], e["algorithm"],
                                                     e["cert"]))


def federation_regions(ks, peers: dict[str, str]) -> list[dict]:
    """The federation list's regions: each region's name, node address (LICENSE_SVC_PEERS in
    development, else a placeholder to be replaced by the operator) and trust-list signers."""
    out = []
    for region, info in sorted(ks.regions.items()):
        signers = [base64.b64encode(ks.certificate(i["id"]).dump()).decode()
                   for i in ks.items(region, "trust_list")]
        if not signers:
            continue
        out.append({"region": region, "name": info.get("name", region),
                    "node_url": peers.get(region) or DEFAULT_NODE_URL.format(region=region),
                    "trust_list_signers": sorted(signers)})
    return out


# -- publishing --------------------------------------------------------------------------------

def _latest(session: Session, kind: str, region: str) -> PublishedList | None:
    return session.scalar(select(PublishedList).where(
        PublishedList.kind == kind, PublishedList.region == region)
        .order_by(PublishedList.sequence.desc()).limit(1))


def _publish(session: Session, kind: str, region: str, now: datetime, validity: timedelta,
             content: Callable[[dict | None], dict], schema: str, signer) -> Published:
    now = now.replace(microsecond=0)
    last = _latest(session, kind, region)
    previous = json.loads(last.envelope)["payload"] if last is not None else None
    body = content(previous)
    digest = hashlib.sha256(canonical_json(body)).hexdigest()
    if last is not None and last.content_sha256 == digest \
            and last.issued_at <= now < last.next_update - validity / 2:
        return Published.from_row(last)
    sequence = last.sequence + 1 if last is not None else 1
    payload = {"schema": schema, **body, "sequence": sequence, "issued_at": iso_time(now),
               "next_update": iso_time(now + validity)}
    envelope = sign_envelope(payload, signer.key, signer.cert)
    text = canonical_json(envelope)
    row = PublishedList(kind=kind, region=region, sequence=sequence, content_sha256=digest,
                        envelope=text.decode("utf-8"), etag=etag_of(text),
                        issued_at=now, next_update=now + validity)
    session.add(row)
    session.flush()  # a concurrent publisher of the same sequence fails here (unique key)
    return Published.from_row(row)


def current_trust_list(ctx, session: Session, region: str | None = None) -> Published:
    """This region's trust list (or, with a key store that holds another region's trust-list
    key — the all-regions development store — that region's), signed by its trust-list signer;
    re-signed when needed."""
    ks, region, now = ctx.keystore, region or ctx.region, ctx.now()
    withdrawals = {w.cert_sha256: w for w in session.scalars(
        select(Withdrawal).where(Withdrawal.region == region))}

    def content(previous):
        return {"region": region,
                "entries": trust_list_entries(ks, region, withdrawals, previous, now),
                "recognised_types": recognised_types()}
    signer = ks.credential(region, "trust_list", "sm2")
    return _publish(session, KIND_TRUST_LIST, region, now, TRUST_LIST_VALIDITY, content,
                    TRUST_LIST_SCHEMA, signer)


def can_sign_trust_list(ks, region: str) -> bool:
    """Whether this key store holds `region`'s trust-list key: its own region always; every
    region only in the all-regions development store (keys_dev/)."""
    try:
        ks.credential(region, "trust_list", "sm2")
    except (SigningError, KeyError, LookupError):
        return False
    return True


def can_sign_federation(ks) -> bool:
    """Whether this node holds the federation root key (development key sets do)."""
    try:
        ks.federation_root()
    except SigningError:
        return False
    return True


def current_federation_list(ctx, session: Session) -> Published:
    """The federation list of lists signed with the federation root key (development: every
    node holds it and publishes the same content).  FederationError without the key."""
    ks, now = ctx.keystore, ctx.now()
    if not can_sign_federation(ks):
        raise FederationError("this node does not hold the federation root key",
                              "本节点未持有联盟根密钥，不发布联盟列表")

    def content(_previous):
        return {"regions": federation_regions(ks, ctx.settings.peers)}
    return _publish(session, KIND_FEDERATION, FEDERATION_REGION, now, FEDERATION_VALIDITY,
                    content, LOTL_SCHEMA, ks.federation_root())


def signed_in_memory(ks, now: datetime) -> tuple[dict, list[dict]]:
    """The federation list and every region's trust list, signed now with the store's own keys
    and kept nowhere: for `license-svc verify` on the all-regions development store, where no
    node has published anything."""
    now = now.replace(microsecond=0)
    stamp = {"sequence": 1, "issued_at": iso_time(now)}
    lotl = sign_envelope({"schema": LOTL_SCHEMA, "regions": federation_regions(ks, {}), **stamp,
                          "next_update": iso_time(now + FEDERATION_VALIDITY)},
                         ks.federation_root().key, ks.federation_root().cert)
    lists = []
    for region in ks.regions:
        signer = ks.credential(region, "trust_list", "sm2")
        lists.append(sign_envelope({
            "schema": TRUST_LIST_SCHEMA, "region": region,
            "entries": trust_list_entries(ks, region, {}, None, now),
            "recognised_types": recognised_types(), **stamp,
            "next_update": iso_time(now + TRUST_LIST_VALIDITY)}, signer.key, signer.cert))
    return lotl, lists


def federation_file_body(ks, node_urls: dict[str, str], now: datetime,
                         validity: timedelta = FEDERATION_FILE_VALIDITY) -> bytes:
    """A federation list signed with `ks`'s federation root key, as the canonical JSON bytes a
    node serves — for the file an exported one-region store carries (`<keys_dir>/federation.json`).

    Why a file: a node without the federation root key cannot sign the list, and in development
    there is no operator to fetch it from.  No database is involved, so the sequence cannot come
    from a previous publication: it is the signing time in Unix seconds, which only grows from
    one export to the next (a node holding an older export's list accepts the newer one, and
    refuses the older one as a rollback)."""
    now = now.replace(microsecond=0)
    payload = {"schema": LOTL_SCHEMA, "regions": federation_regions(ks, node_urls),
               "sequence": int(now.timestamp()), "issued_at": iso_time(now),
               "next_update": iso_time(now + validity)}
    root = ks.federation_root()
    return canonical_json(sign_envelope(payload, root.key, root.cert))


def published(ctx, build: Callable) -> Published:
    """Run `build(ctx, session)` in its own transaction; a lost race for the next sequence (two
    workers re-signing at once) is answered with the winner's list."""
    for attempt in range(3):
        try:
            with ctx.unit_of_work() as session:
                return build(ctx, session)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def withdraw(ctx, session: Session, cert_sha256: str, *, since: datetime, reason: str) -> Withdrawal:
    """Withdraw one of this region's listed certificates from `since` (may be in the past, for a
    key compromised earlier).  The next trust list lists it as withdrawn."""
    cert_sha256 = cert_sha256.lower()
    known = {_cert_sha256(ctx.keystore.certificate(i["id"])) for i in ctx.keystore.items(ctx.region)
             if i["role"] in ENTRY_ROLES}
    if cert_sha256 not in known:
        raise FederationError(f"no listed certificate of region {ctx.region} has SHA-256 {cert_sha256}",
                              f"本区域信任列表中没有 SHA-256 为 {cert_sha256} 的证书")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise FederationError("a reason (1..500 characters) is required", "须说明撤销原因（1–500 字）")
    row = session.get(Withdrawal, cert_sha256)
    if row is None:
        row = Withdrawal(cert_sha256=cert_sha256, region=ctx.region, since=since, reason=reason,
                         created_at=ctx.now())
        session.add(row)
    else:
        row.since, row.reason = since, reason
    session.flush()
    return row


# -- the scenario list (应用场景清单, yrd-scenarios/1) --------------------------------------------
# Signed by the federation root like the list of lists; content from the development data file
# (license_svc/federation/scenarios_dev.json) — the operator's list in production.

KIND_SCENARIOS = "scenarios"
SCENARIOS_FILE = "scenarios.json"
SCENARIOS_VALIDITY = FEDERATION_VALIDITY


SCENARIOS_DEV_DATA = Path(__file__).with_name("scenarios_dev.json")


def scenario_content(path: Path = SCENARIOS_DEV_DATA) -> dict:
    """{"matters": [...]} of the development scenario list, sorted by matter code (equal
    content, equal bytes: the ETag stays put between re-signings)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {"matters": sorted(data["matters"], key=lambda m: m["matter_code"])}


def current_scenario_list(ctx, session: Session) -> Published:
    """The scenario list signed with the federation root key, re-signed like the federation
    list (content change or half its validity).  FederationError without the key."""
    from verification.scenarios import SCENARIOS_SCHEMA

    if not can_sign_federation(ctx.keystore):
        raise FederationError("this node does not hold the federation root key",
                              "本节点未持有联盟根密钥，不签发应用场景清单")
    return _publish(session, KIND_SCENARIOS, FEDERATION_REGION, ctx.now(), SCENARIOS_VALIDITY,
                    lambda _previous: scenario_content(), SCENARIOS_SCHEMA, ctx.keystore.federation_root())


def scenario_file_body(ks, now: datetime, validity: timedelta = FEDERATION_FILE_VALIDITY) -> bytes:
    """The scenario list signed now with `ks`'s federation root, for `<keys_dir>/scenarios.json`
    of an exported store; sequence = signing time in Unix seconds, as `federation_file_body`
    explains (no database to count in, and a later export must supersede an earlier one)."""
    from verification.scenarios import SCENARIOS_SCHEMA

    now = now.replace(microsecond=0)
    root = ks.federation_root()
    return canonical_json(sign_envelope(
        {"schema": SCENARIOS_SCHEMA, **scenario_content(), "sequence": int(now.timestamp()),
         "issued_at": iso_time(now), "next_update": iso_time(now + validity)}, root.key, root.cert))
