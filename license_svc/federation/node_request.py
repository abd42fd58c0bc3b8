"""Requests one region's node makes of another's (跨省通办: retrieval, disputes), signed by the
calling node and checked by the called node against the caller's trust list.

Why a signed envelope in a header, not RFC 9421 HTTP Message Signatures: the nodes already sign
and check canonical-JSON envelopes (trust lists, status answers) with every registered algorithm,
SM2 included, which RFC 9421's algorithm registry does not name; one format, one verifier.  The
header `Licence-Node-Request` carries base64url(canonical JSON of the envelope) whose payload
covers what RFC 9421 would:

    {"schema": "yrd-node-request/1", "from": "zj", "to": "js", "method": "POST",
     "path": "/api/v1/federation/retrievals", "body_sha256": "<hex>",
     "created": "2026-12-06T10:00:00Z", "nonce": "<32 hex>"}

The called node accepts it only if: the envelope signature verifies; the signing certificate
is listed as a `node` of region `from` in that region's verified trust list and is not
withdrawn; `to` is this node's region; method, path and the SHA-256 of the body are the
request's; `created` is within ±60 s of now; and the nonce was never seen (kept for the
window).  Every refusal names its reason.  Both nodes audit the exchange (the callers of this
module do, with the same request id).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from formats.canonical_json import canonical_json, iso_time, parse_time
from formats.envelope import EnvelopeError, check_signature, open_envelope, sign_envelope
from formats.errors import InvalidSignature, Kind, ServiceError
from license_svc.federation.node_request_models import SeenNodeRequest

HEADER = "Licence-Node-Request"
SCHEMA = "yrd-node-request/1"
MAX_SKEW = timedelta(seconds=60)
MAX_HEADER = 16 * 1024
TIMEOUT = 10.0


class NodeRequestRefused(ServiceError):
    """A node request that does not check out (forged, replayed, stale, from a withdrawn or
    unknown node, for another node)."""

    code = "node-request-refused"
    kind = Kind.FORBIDDEN
    title_zh, title_en = "节点请求被拒绝", "Node request refused"

    def __init__(self, reason: str, en: str, zh: str):
        super().__init__(en, zh)
        self.reason = reason


class PeerUnavailable(ServiceError):
    """The other region's node could not be reached or did not answer usefully."""

    code = "peer-unavailable"
    kind = Kind.UNAVAILABLE
    title_zh, title_en = "对方地区节点暂时无法访问", "The other region's node is unavailable"


@dataclass(frozen=True)
class NodeCaller:
    """Who called: a node of `region`, by this certificate, with this request's nonce."""

    region: str
    cert_der: bytes
    nonce: str
    created: datetime


# -- the calling side ----------------------------------------------------------------------------

def sign_headers(ctx, to_region: str, method: str, path: str, body: bytes) -> dict[str, str]:
    node = ctx.keystore.credential(ctx.region, "node", "sm2")
    payload = {"schema": SCHEMA, "from": ctx.region, "to": to_region, "method": method.upper(),
               "path": path, "body_sha256": hashlib.sha256(body).hexdigest(),
               "created": iso_time(ctx.now()), "nonce": secrets.token_hex(16)}
    envelope = sign_envelope(payload, node.key, node.cert)
    token = base64.urlsafe_b64encode(canonical_json(envelope)).decode().rstrip("=")
    return {HEADER: token, "Content-Type": "application/json"}


def node_url(ctx, region: str) -> str:
    """Where `region`'s node is: LICENSE_SVC_PEERS, else the verified federation list."""
    if region in ctx.settings.peers:
        return ctx.settings.peers[region].rstrip("/")
    from license_svc.federation.sync import trust_state
    from verification.trustlist import region_urls

    with ctx.unit_of_work() as session:
        state = trust_state(ctx, session)
    lotl = state.federation.payload if state.federation is not None else None
    url = region_urls(lotl).get(region) if lotl else None
    if not url:
        raise PeerUnavailable(f"no address for region {region}", f"没有 {region} 地区节点的地址")
    return url.rstrip("/")


def call(ctx, to_region: str, path: str, body_obj: dict,
         timeout: float = TIMEOUT) -> tuple[int, dict]:
    """POST a signed request to `to_region`'s node; (status, JSON body).  PeerUnavailable when
    it cannot be reached or answers with something that is not JSON."""
    body = json.dumps(body_obj, ensure_ascii=False).encode("utf-8")
    url = node_url(ctx, to_region) + path
    headers = sign_headers(ctx, to_region, "POST", path, body)
    try:
        status, answer = ctx.peer_client.post_json(url, body, headers=headers, timeout=timeout)
    except Exception as exc:  # PeerError: refused, timeout, too large, not JSON
        raise PeerUnavailable(f"{to_region} node unreachable: {exc}"[:300],
                              f"{to_region} 地区节点无法访问") from None
    return status, answer


# -- the called side -----------------------------------------------------------------------------

def verify(ctx, session: Session, *, method: str, path: str, body: bytes,
           header: str | None) -> NodeCaller:
    """Check a node request as described above; NodeRequestRefused otherwise.  Records the
    nonce in `session` (the caller's transaction): a replay fails even under a race."""
    payload, cert_der = _open(header)
    _check_sender(ctx, payload, cert_der)
    if payload.get("to") != ctx.region:
        raise NodeRequestRefused("wrong-target", f"request addressed to {payload.get('to')!r}",
                                 f"请求的目标地区是 {payload.get('to')!r}，不是本节点")
    if payload.get("method") != method.upper() or payload.get("path") != path:
        raise NodeRequestRefused("wrong-request", "signed method/path differ from the request",
                                 "签名中的方法或路径与请求不符")
    if payload.get("body_sha256") != hashlib.sha256(body).hexdigest():
        raise NodeRequestRefused("body-mismatch", "the body is not the one signed",
                                 "请求内容与签名不符")
    created = parse_time(payload.get("created"))
    now = ctx.now()
    if created is None or abs(now - created) > MAX_SKEW:
        raise NodeRequestRefused("stale", "request time outside ±60 s of now",
                                 "请求时间与当前时间相差超过 60 秒")
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or len(nonce) != 32 or not _is_hex(nonce):
        raise NodeRequestRefused("malformed", "nonce must be 32 hex characters", "随机数格式错误")
    session.execute(delete(SeenNodeRequest).where(SeenNodeRequest.expires_at < now))
    try:
        with session.begin_nested():
            session.add(SeenNodeRequest(nonce=nonce, region=payload["from"], seen_at=now,
                                        expires_at=now + 2 * MAX_SKEW))
    except IntegrityError:
        raise NodeRequestRefused("replayed", "this request was already received (replay)",
                                 "该请求已接收过（重放）") from None
    return NodeCaller(payload["from"], cert_der, nonce, created)


def _open(header: str | None) -> tuple[dict, bytes]:
    if not header or len(header) > MAX_HEADER:
        raise NodeRequestRefused("missing", f"no {HEADER} header (or too large)",
                                 f"缺少 {HEADER} 签名头（或过大）")
    try:
        raw = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        envelope = json.loads(raw)
        opened = open_envelope(envelope)
        check_signature(opened)
    except (ValueError, binascii.Error, EnvelopeError, InvalidSignature):
        raise NodeRequestRefused("bad-signature", "the node request signature does not verify",
                                 "节点请求签名验证失败") from None
    if opened.payload.get("schema") != SCHEMA:
        raise NodeRequestRefused("malformed", f"not a {SCHEMA} request", "不是节点请求")
    return opened.payload, opened.cert_der


def _check_sender(ctx, payload: dict, cert_der: bytes) -> None:
    from license_svc.verify_service import service_trust

    listing = service_trust(ctx).listing
    listed = listing.find(cert_der) if listing is not None else None
    if listed is None or listed.role != "node":
        raise NodeRequestRefused("unknown-node", "the signer is no node in any synced trust list",
                                 "签名者不是任何已同步信任列表中的节点")
    if listed.region != payload.get("from"):
        raise NodeRequestRefused("wrong-region", f"signed by the {listed.region} node, claims "
                                 f"{payload.get('from')!r}", "请求声明的地区与签名节点不符")
    if listed.status != "granted" and listed.since <= ctx.now():
        raise NodeRequestRefused("withdrawn-node", f"the {listed.region} node certificate was "
                                 f"withdrawn on {listed.since.isoformat()}",
                                 f"{listed.region} 节点证书已被撤销")


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)
