"""A peer node for sync tests, behind httpx.MockTransport: it signs real trust lists with its
region's dev keys, answers If-None-Match with 304, and can be told to misbehave (go down, roll
back, serve garbage, sign with the wrong key, equivocate)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import httpx

from license_svc.federation.publish import etag_of, federation_regions, trust_list_entries
from formats.canonical_json import canonical_json
from license_svc.licences.record import iso_time
from formats.envelope import sign_envelope
from verification.trustlist import LOTL_SCHEMA, TRUST_LIST_SCHEMA


class Peers:
    """Every host a sync round may call.  `lists[region]` is the payload a peer serves."""

    def __init__(self, ks, clock, regions=("js", "zj", "ah")):
        self.ks, self.clock = ks, clock
        self.sequence = {r: 10 for r in regions}
        self.mode = {r: "ok" for r in regions}
        self.extra_types = {r: [] for r in regions}
        self.requests: list[httpx.Request] = []
        self.lotl: dict | None = None  # envelope served at /api/v1/federation, if any

    # -- what a peer signs -----------------------------------------------------------------------
    def payload(self, region: str, sequence: int | None = None) -> dict:
        now = self.clock()
        return {"schema": TRUST_LIST_SCHEMA, "region": region,
                "sequence": self.sequence[region] if sequence is None else sequence,
                "issued_at": iso_time(now), "next_update": iso_time(now + timedelta(hours=24)),
                "entries": trust_list_entries(self.ks, region, {}, None, now),
                "recognised_types": ["11100000MB0000001T001", *self.extra_types[region]]}

    def signed(self, region: str, payload: dict, signer_region: str | None = None) -> bytes:
        cred = self.ks.credential(signer_region or region, "trust_list", "sm2")
        return canonical_json(sign_envelope(payload, cred.key, cred.cert))

    def lotl_envelope(self, node_urls: dict[str, str], sequence: int = 1, signer=None) -> dict:
        now = self.clock()
        payload = {"schema": LOTL_SCHEMA, "sequence": sequence, "issued_at": iso_time(now),
                   "next_update": iso_time(now + timedelta(days=7)),
                   "regions": federation_regions(self.ks, node_urls)}
        cred = signer or self.ks.federation_root()
        return sign_envelope(payload, cred.key, cred.cert)

    # -- the transport ---------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _cache(self):
        if not hasattr(self, "_bodies"):
            self._bodies = {}
        return self._bodies

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/api/v1/federation":
            if self.lotl is None:
                return httpx.Response(404)
            body = canonical_json(self.lotl)
            return httpx.Response(200, content=body, headers={"ETag": etag_of(body)})
        region = request.url.host.split(".")[0]
        if region not in self.mode or request.url.path != "/api/v1/trust-list":
            return httpx.Response(404)
        mode = self.mode[region]
        if mode == "down":
            raise httpx.ConnectError("connection refused", request=request)
        if mode == "garbage":
            return httpx.Response(200, content=b"<html>maintenance</html>")
        if mode == "http500":
            return httpx.Response(500, content=b"oops")
        # The same content is signed once per sequence, like a real node (stable ETag).
        key = (region, self.sequence[region], mode, tuple(self.extra_types[region]))
        body = self._cache().get(key)
        if body is None:
            payload = self.payload(region)
            if mode == "rollback":
                payload["sequence"] = self.sequence[region] - 5
            body = self.signed(region, payload, "zj" if mode == "wrong-signer" and region != "zj"
                               else "js" if mode == "wrong-signer" else None)
            if mode == "tampered":
                env = json.loads(body)
                env["payload"]["entries"][0]["status"] = "withdrawn"
                body = canonical_json(env)
            self._cache()[key] = body
        etag = etag_of(body)
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, content=body, headers={"ETag": etag})

    def conditional_requests(self, region: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host.startswith(region + ".")
                and "if-none-match" in r.headers]


def sha256_hex(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()
