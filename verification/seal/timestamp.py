"""The timestamp inside a seal (v5) or a SES_Signature: an RFC 3161 token over the signature value.

GB/T 38540 puts a GB/T 20520 (= RFC 3161) TimeStampToken, DER, in `timeStamp [0] BIT STRING`;
its messageImprint is the hash of the signature value it vouches for.  We check the imprint,
the TSA's CMS signature (SM2-with-SM3 or sha256WithRSA, through the algorithm layer) and the
TSA certificate's path to a trusted TSA root with the timeStamping purpose.
"""

from __future__ import annotations

from datetime import datetime

from asn1crypto import cms, x509
from asn1crypto import tsp  # noqa: F401 - importing it registers "tst_info" with cms.ContentType

from formats import algorithms as alg
from formats.algorithms import registry
from verification import certpath
from verification.report import Report



def check_timestamp(report: Report, name: str, token_der: bytes, signature_value: bytes, *,
                    at: datetime, tsa_roots=(), intermediates=(), crls=(),
                    store: certpath.TrustStore | None = None,
                    extra_intermediates=()) -> datetime | None:
    """Add check `name`; return the token's genTime when everything but trust holds.

    Trust: `store` (parsed once, see verification.certpath.TrustStore) plus
    `extra_intermediates`, or else `tsa_roots`, `intermediates` and `crls`."""
    try:
        info = _read(token_der)
    except Exception as exc:  # noqa: BLE001 - any parse error is a format failure of the token
        report.add(name, False, f"时间戳格式错误 / malformed timestamp token "
                   f"({exc.__class__.__name__})", failure="FORMAT_FAILURE")
        return None
    tst, signer_info, tsa_cert, certs, econtent = info
    imprint = tst["message_imprint"]
    digest = _digest(imprint["hash_algorithm"]["algorithm"].native)
    if digest is None or digest(signature_value) != imprint["hashed_message"].native:
        report.add(name, False, "时间戳与签名值不对应 / the timestamp is not over this signature",
                   failure="HASH_FAILURE")
        return None
    if not _signature_ok(signer_info, tsa_cert, econtent):
        report.add(name, False, "时间戳签名无效 / the timestamp signature does not verify",
                   failure="SIG_CRYPTO_FAILURE")
        return None
    gen_time = tst["gen_time"].native
    if store is None:
        store, extra_intermediates = certpath.trust_store(tsa_roots, intermediates, crls), ()
    path = store.validate(tsa_cert, at=at, extra_intermediates=[*extra_intermediates, *certs],
                          extended_key_usage={"time_stamping"})
    if not path.ok:
        path.detail_zh_en = f"时间戳 {gen_time:%Y-%m-%d %H:%M:%S}Z；" + path.detail_zh_en
        path.add_to(report, name)
        return gen_time
    report.add(name, True, f"时间戳有效，时间 {gen_time:%Y-%m-%d %H:%M:%S}Z / valid timestamp "
               f"at {gen_time:%Y-%m-%d %H:%M:%S}Z")
    return gen_time


def _digest(name: str):
    """The digest function of a registered algorithm by asn1crypto name, or None."""
    spec = registry.find_by_digest_name(name)
    return spec.digest if spec is not None else None


def _read(token_der: bytes):
    info = cms.ContentInfo.load(bytes(token_der), strict=True)
    if info["content_type"].native != "signed_data":
        raise ValueError("not SignedData")
    sd = info["content"]
    eci = sd["encap_content_info"]
    if eci["content_type"].native != "tst_info":
        raise ValueError("not a TSTInfo")
    econtent = eci["content"].contents
    tst = eci["content"].parsed
    tst.native
    if len(sd["signer_infos"]) != 1:
        raise ValueError("expected one SignerInfo")
    si = sd["signer_infos"][0]
    certs = [c.chosen for c in sd["certificates"] if isinstance(c.chosen, x509.Certificate)]
    tsa_cert = next(c for c in certs if _identifies(si["sid"], c))
    return tst, si, tsa_cert, certs, econtent


def _identifies(sid: cms.SignerIdentifier, cert: x509.Certificate) -> bool:
    if sid.name == "issuer_and_serial_number":
        return (sid.chosen["issuer"] == cert.issuer
                and sid.chosen["serial_number"].native == cert.serial_number)
    return cert.key_identifier == sid.chosen.native


def _signature_ok(si: cms.SignerInfo, cert: x509.Certificate, econtent: bytes) -> bool:
    digest = _digest(si["digest_algorithm"]["algorithm"].native)
    attrs = si["signed_attrs"]
    if digest is None or not attrs:
        return False
    md = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
    if md != [digest(econtent)]:
        return False
    signed = b"\x31" + attrs.dump()[1:]  # the SET OF, not its [0] IMPLICIT tag, is signed
    try:
        key = alg.load_public_key(cert.public_key)
        sig_alg = si["signature_algorithm"]["algorithm"].dotted
        spec = registry.of_key(key)
        if registry.find_by_cms_signature_oid(sig_alg) is not spec or \
                (spec.signs_cms_digest and digest is not spec.digest):
            return False
        key.verify(si["signature"].native, signed)
    except Exception:  # noqa: BLE001 - InvalidSignature or an unusable key: not verified
        return False
    return True
