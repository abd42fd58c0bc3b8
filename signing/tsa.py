"""An RFC 3161 time-stamp authority (TSA) for one region: SM2 or RSA, in process or over HTTP.

`TimeStampAuthority.respond(request_der)` is the whole protocol: parse a DER TimeStampReq,
answer with a DER TimeStampResp whose token is a CMS SignedData over a TSTInfo, signed with the
region TSA key (SM2-with-SM3 or sha256WithRSA).  Bad requests get a `rejection` status with the
RFC 3161 failure bit, never an exception, because the same function sits behind
`POST /api/v1/tsa`.  `InProcessTimeStamper` lets pyHanko call it without HTTP, which is how the
issuance path timestamps PAdES B-T signatures (no network round trip per licence).
"""

from __future__ import annotations

import functools
import secrets
from datetime import datetime, timezone
from typing import Callable, Iterable

from asn1crypto import algos, cms, core, tsp, x509
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.timestamps.api import TimeStamper

from formats import algorithms as alg
from formats import oids
from formats.der import set_of, tlv
from formats.errors import SigningError

# TSA policy under our UUID arc (docs/formats.md): "timestamps from a license-svc region TSA,
# time from the host clock (NTP-disciplined in production), accuracy 1 s".
TSA_POLICY = oids.LICENSE_SVC_ARC + ".2"
MAX_REQUEST_BYTES = 16 * 1024
CONTENT_TYPE_QUERY = "application/timestamp-query"
CONTENT_TYPE_REPLY = "application/timestamp-reply"

# ESSCertIDv2 hash of the TSA certificate.  Not SHA-256 for RSA: SHA-256 is the ASN.1 DEFAULT
# there, and asn1crypto then re-serialises the omitted default on every access, which made
# embedding the token in pyHanko's SignedData take ~15 s.  SHA-512 is explicit and cheap.
ESS_HASH = {"sha256": "sha512"}

_OID_SIGNED_DATA = core.ObjectIdentifier("1.2.840.113549.1.7.2").dump()
_OID_TST_INFO = core.ObjectIdentifier("1.2.840.113549.1.9.16.1.4").dump()
_INT_1 = tlv(0x02, b"\x01")
_GRANTED = tsp.PKIStatusInfo({"status": "granted"}).dump()


@functools.lru_cache(maxsize=8)
def _imprint_alg(digest_algorithm: str) -> bytes:
    return algos.DigestAlgorithm({"algorithm": digest_algorithm}).dump()


def _int(n: int) -> bytes:
    """DER INTEGER for n >= 0."""
    return tlv(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big"))


# Imprint algorithms we accept and their digest lengths.
_IMPRINT_LENGTHS = {"sha256": 32, "sha384": 48, "sha512": 64, oids.SM3_NAME: 32}


class TimeStampResp(core.Sequence):
    """RFC 3161 TimeStampResp.  asn1crypto 1.5 declares timeStampToken mandatory, so it can
    neither write nor read a rejection; this declaration follows the RFC (OPTIONAL)."""

    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def _rejection(fail: str, text: str) -> TimeStampResp:
    return TimeStampResp({"status": tsp.PKIStatusInfo({
        "status": "rejection",
        "status_string": [text],
        "fail_info": tsp.PKIFailureInfo({fail}),
    })})


class TimeStampAuthority:
    """Signs TSTInfo structures with a held key.  The certificate must carry the critical
    extended key usage id-kp-timeStamping alone (RFC 3161 §2.3), which we check once here."""

    def __init__(self, key, cert: x509.Certificate, chain: Iterable[x509.Certificate] = (),
                 *, clock: Callable[[], datetime] | None = None, policy: str = TSA_POLICY):
        eku = cert.extended_key_usage_value
        if eku is None or eku.native != ["time_stamping"] or \
                "extended_key_usage" not in cert.critical_extensions:
            raise SigningError("TSA certificate needs the critical EKU timeStamping only",
                               "时间戳证书必须且只能包含关键扩展用途 timeStamping")
        if key.public_key.spki_der() != cert.public_key.dump():
            raise SigningError("the TSA private key does not match its certificate",
                               "时间戳私钥与证书不匹配")
        # Re-read from DER: asn1crypto re-serialises constructed certificates on every dump.
        self.key, self.cert = key, x509.Certificate.load(cert.dump())
        self.chain = [x509.Certificate.load(c.dump()) for c in chain
                      if c.subject != c.issuer]  # no roots in tokens
        self.policy = policy
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.spec = alg.registry.of_key(key)
        self.digest_name, self.sig_alg = self.spec.digest_name, self.spec.signed_digest_name
        self._signing_cert_der = cms.CMSAttribute({
            "type": "signing_certificate_v2",
            "values": [as_signing_certificate_v2(self.cert, hash_algo=ESS_HASH.get(self.digest_name, self.digest_name))],
        }).dump()
        self._parts = self._encode_parts()

    # -- protocol ----------------------------------------------------------------------
    def respond(self, request_der: bytes) -> bytes:
        """DER TimeStampReq -> DER TimeStampResp (granted, or rejection with a reason)."""
        return self.response(request_der).dump()

    def response(self, request_der: bytes) -> TimeStampResp:
        if len(request_der) > MAX_REQUEST_BYTES:
            return _rejection("bad_request", "request too large / 请求过大")
        try:
            req = tsp.TimeStampReq.load(bytes(request_der), strict=True)
            imprint = req["message_imprint"]
            hash_name = imprint["hash_algorithm"]["algorithm"].native
            hashed = imprint["hashed_message"].native
            version = req["version"].native
            policy = req["req_policy"].dotted if req["req_policy"].native is not None else None
            has_ext = req["extensions"].native is not None
            nonce = req["nonce"].native
            cert_req = bool(req["cert_req"].native)
        except Exception:
            return _rejection("bad_data_format", "malformed TimeStampReq / 时间戳请求格式错误")
        if version != "v1":
            return _rejection("bad_request", "unsupported version / 不支持的版本")
        if _IMPRINT_LENGTHS.get(hash_name) != len(hashed or b""):
            return _rejection("bad_alg", "unsupported or inconsistent hash / 摘要算法不支持或长度不符")
        if policy is not None and policy != self.policy:
            return _rejection("unaccepted_policy", "unknown policy / 不接受的策略")
        if has_ext:
            return _rejection("unaccepted_extension", "extensions not supported / 不支持扩展")
        if nonce is not None and not 0 < nonce < 1 << 160:
            return _rejection("bad_request", "nonce out of range / 随机数超出范围")
        try:
            token = self._token(imprint.dump(), nonce, cert_req)
        except Exception:
            return _rejection("system_failure", "signing failed / 签名失败")
        return TimeStampResp.load(tlv(0x30, _GRANTED + token))

    def token(self, digest_algorithm: str, hashed: bytes) -> bytes:
        """DER token over `hashed` for a caller in this process (the licence stamper): the
        same token `respond` would put in a granted response, without encoding a request and
        parsing a response around it, which was a third of a licence's timestamping time."""
        if _IMPRINT_LENGTHS.get(digest_algorithm) != len(hashed):
            raise SigningError(f"unsupported or inconsistent imprint hash {digest_algorithm}",
                               f"时间戳摘要算法 {digest_algorithm} 不支持或长度不符")
        imprint = tlv(0x30, _imprint_alg(digest_algorithm) + tlv(0x04, hashed))
        return self._token(imprint, None, True)

    def _token(self, imprint: bytes, nonce: int | None, cert_req: bool) -> bytes:
        """DER ContentInfo of the token.  Everything but TSTInfo, messageDigest and the
        signature is the same for every token, so it is encoded once (`_parts`), as for the
        PDF signature's CMS (signing.pdf.fast_cms)."""
        p = self._parts
        now = self.clock().astimezone(timezone.utc)
        tst = tlv(0x30, b"".join([
            _INT_1, p["policy"], imprint,
            _int(secrets.randbits(120) | 1 << 120),
            tlv(0x18, now.strftime("%Y%m%d%H%M%SZ").encode()),
            p["accuracy"],
            _int(nonce) if nonce is not None else b"",
            p["tsa_name"],
        ]))
        attrs = set_of([*p["fixed_attrs"], p["md_prefix"] + self.spec.digest(tst)])
        signer_info = tlv(0x30, p["si_head"] + b"\xa0" + attrs[1:] + p["sig_alg"]
                          + tlv(0x04, self.key.sign(attrs)))
        econtent = tlv(0x30, _OID_TST_INFO + tlv(0xA0, tlv(0x04, tst)))
        signed_data = tlv(0x30, p["sd_head"] + econtent + (p["certs"] if cert_req else b"")
                          + tlv(0x31, signer_info))
        return tlv(0x30, _OID_SIGNED_DATA + tlv(0xA0, signed_data))

    def _encode_parts(self) -> dict:
        cert = self.cert
        digest_alg = algos.DigestAlgorithm({"algorithm": self.digest_name}).dump()
        empty = self.spec.digest(b"")
        md_attr = cms.CMSAttribute({"type": "message_digest", "values": [empty]}).dump()
        sid = cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": cert.issuer, "serial_number": cert.serial_number}}).dump()
        return {
            "policy": core.ObjectIdentifier(self.policy).dump(),
            "accuracy": tlv(0x30, _INT_1),
            "tsa_name": tlv(0xA0, tlv(0xA4, cert.subject.dump())),
            "fixed_attrs": [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}).dump(),
                self._signing_cert_der,
            ],
            "md_prefix": md_attr[:-len(empty)],
            "si_head": _INT_1 + sid + digest_alg,
            "sig_alg": algos.SignedDigestAlgorithm({"algorithm": self.sig_alg}).dump(),
            "sd_head": tlv(0x02, b"\x03") + set_of([digest_alg]),
            "certs": tlv(0xA0, b"".join(sorted(c.dump() for c in [cert, *self.chain]))),
        }


class InProcessTimeStamper(TimeStamper):
    """pyHanko `TimeStamper` that asks a `TimeStampAuthority` in this process.

    Through pyHanko (`async_timestamp`) the request still goes through DER encode/decode, as
    the HTTP route serves it, and pyHanko checks nonce and imprint on the reply as for a remote
    TSA; the licence stamper's fast path asks `token` directly (same token, no round trip)."""

    def __init__(self, authority: TimeStampAuthority, include_nonce: bool = True):
        super().__init__(include_nonce=include_nonce)
        self.authority = authority

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> TimeStampResp:
        return TimeStampResp.load(self.authority.respond(req.dump()))

    def token(self, digest_algorithm: str, hashed: bytes) -> bytes:
        return self.authority.token(digest_algorithm, hashed)


def handle_timestamp_query(body: bytes, content_type: str | None,
                           authority: TimeStampAuthority) -> tuple[int, bytes, str]:
    """HTTP adapter logic: (status code, body, content type).  RFC 3161 §3.4: a query must
    be sent as application/timestamp-query; rejections are still 200 with a TimeStampResp."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype != CONTENT_TYPE_QUERY:
        return 415, _rejection("bad_request", "expected application/timestamp-query / "
                               "请求类型应为 application/timestamp-query").dump(), CONTENT_TYPE_REPLY
    return 200, authority.respond(body), CONTENT_TYPE_REPLY
