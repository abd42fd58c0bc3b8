"""RFC 3161 TSA: requests, rejections, and tokens checked by pyHanko's TST validator and by
OpenSSL (`openssl ts -verify`) for RSA."""

import asyncio
import shutil
import subprocess
from datetime import timedelta

import pytest
from asn1crypto import pem, tsp

from formats import algorithms as alg
from formats.errors import SigningError
from signing.tsa import (CONTENT_TYPE_REPLY, InProcessTimeStamper, TimeStampAuthority,
                         TimeStampResp, handle_timestamp_query)
from tests.support.material import NOW, hierarchy


def _tsa(algorithm):
    h = hierarchy(algorithm)
    return TimeStampAuthority(h.tsa.key, h.tsa.cert, h.tsa.chain, clock=lambda: NOW)


def _req(digest=b"\x01" * 32, hash_name="sha256", **extra):
    return tsp.TimeStampReq({"version": "v1", "message_imprint": {
        "hash_algorithm": {"algorithm": hash_name}, "hashed_message": digest},
        "cert_req": True, **extra}).dump()


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_granted_token_validates_with_pyhanko(algorithm):
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data

    from verification.certpath import make_validation_context

    tsa = _tsa(algorithm)
    digest = alg.digest("sm3" if algorithm == "sm2" else "sha256", b"message")
    resp = TimeStampResp.load(tsa.respond(_req(digest, "sm3" if algorithm == "sm2" else "sha256",
                                                   nonce=12345)))
    assert resp["status"]["status"].native == "granted"
    token = resp["time_stamp_token"]
    info = token["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 12345 and info["gen_time"].native == NOW
    assert info["message_imprint"]["hashed_message"].native == digest
    h = hierarchy(algorithm)
    vc = make_validation_context(trust_roots=[h.root], at=NOW + timedelta(minutes=1))
    st = asyncio.run(validate_tst_signed_data(token["content"], vc, lambda _alg: digest))
    assert st["intact"] and st["valid"] and st["trust_problem_indic"] is None, st


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_direct_token_is_the_granted_token_without_nonce(algorithm):
    """The stamper's fast path (`token`) gives what `respond` grants, minus the nonce that
    only binds a request to its response, and pyHanko validates it the same way."""
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data

    from verification.certpath import make_validation_context

    tsa, name = _tsa(algorithm), "sm3" if algorithm == "sm2" else "sha256"
    digest = alg.digest(name, b"message")
    direct = cms.ContentInfo.load(InProcessTimeStamper(tsa).token(name, digest))
    granted = TimeStampResp.load(tsa.respond(_req(digest, name)))["time_stamp_token"]
    infos = [t["content"]["encap_content_info"]["content"].parsed for t in (direct, granted)]
    for i in infos:
        i["serial_number"] = 1  # random per token
    assert infos[0].dump() == infos[1].dump() and infos[0]["nonce"].native is None
    assert direct["content"]["certificates"].dump() == granted["content"]["certificates"].dump()
    h = hierarchy(algorithm)
    vc = make_validation_context(trust_roots=[h.root], at=NOW + timedelta(minutes=1))
    st = asyncio.run(validate_tst_signed_data(direct["content"], vc, lambda _alg: digest))
    assert st["intact"] and st["valid"] and st["trust_problem_indic"] is None, st
    wrong = asyncio.run(validate_tst_signed_data(
        direct["content"], vc, lambda _alg: alg.digest(name, b"other")))
    assert not wrong["intact"]


@pytest.mark.parametrize("name, digest", [("sha256", b"\x01" * 20), ("md5", b"\x01" * 16),
                                          ("sm3", b"")])
def test_direct_token_refuses_bad_imprints(name, digest):
    with pytest.raises(SigningError):
        _tsa("sm2").token(name, digest)


@pytest.mark.parametrize("req, fail", [
    (b"garbage", "bad_data_format"),
    (_req(b"\x01" * 20), "bad_alg"),
    (_req(hash_name="md5", digest=b"\x01" * 16), "bad_alg"),
    (_req(req_policy="1.2.3.4"), "unaccepted_policy"),
    (b"\x30" + b"\x84\xff\xff\xff\xff", "bad_data_format"),
    (b"\x00" * 20000, "bad_request"),
])
def test_rejections(req, fail):
    resp = TimeStampResp.load(_tsa("rsa").respond(req))
    assert resp["status"]["status"].native == "rejection"
    assert fail in resp["status"]["fail_info"].native
    assert "time_stamp_token" not in resp or resp["time_stamp_token"].native is None


def test_http_adapter_content_types():
    tsa = _tsa("sm2")
    code, body, ctype = handle_timestamp_query(_req(), "application/timestamp-query", tsa)
    assert (code, ctype) == (200, CONTENT_TYPE_REPLY)
    assert TimeStampResp.load(body)["status"]["status"].native == "granted"
    code, body, _ = handle_timestamp_query(_req(), "application/json", tsa)
    assert code == 415 and TimeStampResp.load(body)["status"]["status"].native == "rejection"


def test_tsa_certificate_needs_timestamping_eku():
    h = hierarchy("rsa")
    with pytest.raises(SigningError):
        TimeStampAuthority(h.signer.key, h.signer.cert)


def test_in_process_timestamper_checks_the_nonce():
    ts = InProcessTimeStamper(_tsa("rsa"))
    token = asyncio.run(ts.async_timestamp(b"\x02" * 32, "sha256"))
    assert token["content_type"].native == "signed_data"


@pytest.mark.interop
def test_openssl_ts_verify_rsa_token(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI absent")
    h = hierarchy("rsa")
    data = b"licence bytes"
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "req").write_bytes(_req(alg.sha256(data)))
    (tmp_path / "resp").write_bytes(_tsa("rsa").respond((tmp_path / "req").read_bytes()))
    (tmp_path / "ca.pem").write_bytes(pem.armor("CERTIFICATE", h.root.dump()))
    out = subprocess.run(["openssl", "ts", "-verify", "-data", str(tmp_path / "data"), "-in",
                          str(tmp_path / "resp"), "-CAfile", str(tmp_path / "ca.pem")],
                         capture_output=True, text=True)
    assert "Verification: OK" in out.stdout, out.stdout + out.stderr
    (tmp_path / "data").write_bytes(data + b"!")
    out = subprocess.run(["openssl", "ts", "-verify", "-data", str(tmp_path / "data"), "-in",
                          str(tmp_path / "resp"), "-CAfile", str(tmp_path / "ca.pem")],
                         capture_output=True, text=True)
    assert "Verification: OK" not in out.stdout


@pytest.mark.interop
def test_openssl_ts_verifies_the_direct_rsa_token(tmp_path):
    """The token the stamper embeds (`token`, no request/response around it), checked by
    OpenSSL against the digest it covers, and refused for another digest."""
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI absent")
    h = hierarchy("rsa")
    digest = alg.sha256(b"licence signature value")
    (tmp_path / "token").write_bytes(_tsa("rsa").token("sha256", digest))
    (tmp_path / "ca.pem").write_bytes(pem.armor("CERTIFICATE", h.root.dump()))

    def verify(hex_digest: str) -> str:
        return subprocess.run(["openssl", "ts", "-verify", "-token_in", "-in", str(tmp_path / "token"),
                               "-digest", hex_digest, "-CAfile", str(tmp_path / "ca.pem")],
                              capture_output=True, text=True).stdout
    assert "Verification: OK" in verify(digest.hex())
    assert "Verification: OK" not in verify(alg.sha256(b"other").hex())
