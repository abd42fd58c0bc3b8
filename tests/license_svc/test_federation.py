"""What a node publishes: GET /api/v1/trust-list and /api/v1/federation (signed, ETag, 304),
sequence only growing, stable bytes between re-signings, recognised types from the templates,
withdrawals (explicit, and keys that vanish from the key store), and the trust-list CLI."""

import base64
import hashlib
import json
from datetime import timedelta

import pytest

from license_svc import templates
from typer.testing import CliRunner

from license_svc.cli import _register, app as cli_app
from license_svc.federation.publish import (FEDERATION_VALIDITY, TRUST_LIST_VALIDITY,
                                            current_trust_list, published, withdraw)
from license_svc.federation.sync import pinned_roots
from license_svc.templates import load_templates
from signing.qr import credentials
from verification import qr as vqr
from verification import trustlist as tl
from verification.report import TOTAL_FAILED, TOTAL_PASSED

_register()
AMR = "11310000MB0000010A"


def sh_signers(ctx):
    return [ctx.keystore.credential("sh", "trust_list", "sm2").cert.dump()]


def test_trust_list_route_is_signed_with_etag_and_304(client, ctx, clock):
    r = client.get("/api/v1/trust-list")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    etag = r.headers["etag"]
    assert etag.startswith('"') and r.headers["cache-control"] == "no-cache"
    result = tl.verify_trust_list(r.content, sh_signers(ctx), clock(), region="sh")
    assert result.ok, result.report.to_text()
    assert result.payload["sequence"] == 1
    same = client.get("/api/v1/trust-list")
    assert same.content == r.content and same.headers["etag"] == etag
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        nm = client.get("/api/v1/trust-list", headers={"If-None-Match": header})
        assert nm.status_code == 304 and nm.content == b"" and nm.headers["etag"] == etag
    assert client.get("/api/v1/trust-list", headers={"If-None-Match": '"stale"'}).status_code == 200


def test_trust_list_content(client, ctx):
    payload = client.get("/api/v1/trust-list").json()["payload"]
    assert set(payload) == {"schema", "region", "sequence", "issued_at", "next_update", "entries",
                            "recognised_types"}
    ks = ctx.keystore
    listed = {e["cert"] for e in payload["entries"]}
    for item in ks.items("sh"):
        der = base64.b64encode(ks.certificate(item["id"]).dump()).decode()
        wanted = item["role"] in tl.ENTRY_ROLES
        assert (der in listed) == wanted, item["id"]  # no roots, CAs or demo certificates
    for e in payload["entries"]:
        base = {"role", "org_name", "org_code", "algorithm", "cert", "status", "since"}
        assert set(e) == (base | {"licence_types"} if e["role"] == "licence_signer" else base)
        if e["role"] == "licence_signer":  # the organisation's type codes, as identifiers carry
            org = next(o for o in ks.organisations("sh") if o.code == e["org_code"])
            assert e["licence_types"] == sorted(templates.get_template(f).type_code
                                                for f in org.licence_types)
        assert e["status"] == "granted"
    recognised = sorted(t.type_code for t in load_templates().values() if t.recognised)
    assert payload["recognised_types"] == recognised and recognised


def test_resigned_after_half_validity_with_a_higher_sequence(client, ctx, clock):
    first = client.get("/api/v1/trust-list")
    clock.advance(seconds=(TRUST_LIST_VALIDITY / 2).total_seconds() - 60)
    assert client.get("/api/v1/trust-list").content == first.content
    clock.advance(seconds=120)
    second = client.get("/api/v1/trust-list", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200 and second.headers["etag"] != first.headers["etag"]
    assert second.json()["payload"]["sequence"] == 2
    assert second.json()["payload"]["entries"] == first.json()["payload"]["entries"]


def test_withdrawal_is_published_and_fails_later_qr_codes(client, ctx, clock):
    ks = ctx.keystore
    cred = ks.credential("sh", "licence_signer", "sm2", org_code=AMR)
    before = client.get("/api/v1/trust-list")
    since = clock() + timedelta(minutes=30)
    with ctx.unit_of_work() as s:
        withdraw(ctx, s, hashlib.sha256(cred.cert.dump()).hexdigest().upper(), since=since,
                 reason="密钥疑似泄露 / key suspected compromised")
    after = client.get("/api/v1/trust-list", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    result = tl.verify_trust_list(after.content, sh_signers(ctx), clock(), region="sh",
                                  known_sequence=before.json()["payload"]["sequence"])
    assert result.ok and result.sequence == 2
    entry = next(e for e in result.payload["entries"]
                 if e["cert"] == base64.b64encode(cred.cert.dump()).decode())
    assert entry["status"] == "withdrawn" and entry["since"] == since.strftime("%Y-%m-%dT%H:%M:%SZ")

    trust = vqr.QrTrust.from_trust_lists([result.payload])
    record = {"identifier": "1.2.156.3005.2.X.11310000MB0000010A.Z.001.1", "type_code": "X",
              "number": "N1", "issuer": {"name": cred.org_name, "code": AMR}, "region": "sh",
              "holders": [{"name": "某公司", "code": "91310000MA00000012", "code_type": "001"}],
              "valid_from": "2026-01-15", "valid_until": "2030-01-14", "version": 1}
    ok = credentials.el1_for_record(record, {}, cred.key, cred.cert.dump(), now=clock())
    late = credentials.el1_for_record(record, {}, cred.key, cred.cert.dump(),
                                      now=since + timedelta(minutes=1))
    assert vqr.verify_qr_text(ok, trust, since + timedelta(hours=1)).indication == TOTAL_PASSED
    r = vqr.verify_qr_text(late, trust, since + timedelta(hours=1))
    assert (r.indication, r.sub_indication) == (TOTAL_FAILED, "REVOKED")


def test_withdraw_refuses_unknown_certificates(ctx, clock):
    from license_svc.federation.publish import FederationError

    other = ctx.keystore.credential("js", "licence_signer", "sm2")
    with ctx.unit_of_work() as s, pytest.raises(FederationError):
        withdraw(ctx, s, hashlib.sha256(other.cert.dump()).hexdigest(), since=clock(), reason="x")


def test_vanished_key_stays_listed_as_withdrawn(ctx, clock):
    """A key rotated out of the key store is listed as withdrawn from the moment it vanished,
    so what it signed before keeps verifying elsewhere."""
    first = published(ctx, current_trust_list).envelope["payload"]
    gone = next(e for e in first["entries"] if e["role"] == "tsa")
    real = ctx.keystore

    class Rotated:  # the same key store without that TSA certificate
        def __init__(self, ks):
            self._ks = ks

        def items(self, *a, **kw):
            return [i for i in self._ks.items(*a, **kw)
                    if base64.b64encode(self._ks.certificate(i["id"]).dump()).decode() != gone["cert"]]

        def __getattr__(self, name):
            return getattr(self._ks, name)
    ctx._keystore = Rotated(real)
    clock.advance(hours=1)
    second = published(ctx, current_trust_list).envelope["payload"]
    kept = next(e for e in second["entries"] if e["cert"] == gone["cert"])
    assert kept["status"] == "withdrawn" and kept["since"] == clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert second["sequence"] == first["sequence"] + 1
    clock.advance(hours=1)
    third = published(ctx, current_trust_list).envelope["payload"]
    assert third["sequence"] == second["sequence"]  # unchanged content: not re-signed


def test_federation_route(client, ctx, clock, settings_factory, ctx_factory):
    from license_svc.web import create_app
    from fastapi.testclient import TestClient

    node = ctx_factory(settings_factory("js", peers={"sh": "http://127.0.0.1:8001",
                                                      "js": "http://127.0.0.1:8002"}))
    with TestClient(create_app(ctx=node)) as c:
        r = c.get("/api/v1/federation")
        assert r.status_code == 200
        result = tl.verify_federation_list(r.content, pinned_roots(ctx.keystore), clock())
        assert result.ok, result.report.to_text()
        urls = tl.region_urls(result.payload)
        assert urls["sh"] == "http://127.0.0.1:8001" and urls["js"] == "http://127.0.0.1:8002"
        assert urls["zj"].startswith("https://") and set(urls) == {"sh", "js", "zj", "ah"}
        assert tl.trust_list_signers(result.payload, "ah") == \
            [ctx.keystore.credential("ah", "trust_list", "sm2").cert.dump()]
        assert c.get("/api/v1/federation", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
        assert json.loads(r.content)["payload"]["next_update"] > json.loads(r.content)["payload"]["issued_at"]
    assert FEDERATION_VALIDITY > TRUST_LIST_VALIDITY


def test_node_without_the_federation_key_serves_its_synced_copy(client, ctx, monkeypatch):
    from license_svc.federation import publish

    monkeypatch.setattr(publish, "can_sign_federation", lambda ks: False)
    r = client.get("/api/v1/federation")
    assert r.status_code == 404
    assert r.json()["type"] == "urn:license-svc:problem:federation-list-unavailable"


def test_operator_routes_need_roles(client, auth_headers):
    assert client.post("/api/v1/federation/sync").status_code == 401
    assert client.post("/api/v1/federation/sync", headers=auth_headers["relying"]).status_code == 403
    r = client.get("/api/v1/federation/status", headers=auth_headers["auditor"])
    assert r.status_code == 200 and r.json()["trust"]["unavailable"] == ["ah", "js", "sh", "zj"]


# -- CLI ----------------------------------------------------------------------------------------

@pytest.fixture
def cli(settings):
    env = {"LICENSE_SVC_DATABASE_URL": settings.database_url, "LICENSE_SVC_REGION": "sh",
           "LICENSE_SVC_DATA_DIR": str(settings.data_dir), "LICENSE_SVC_PEERS": ""}
    runner = CliRunner()

    def invoke(*args):
        result = runner.invoke(cli_app, ["trust-list", *args], env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result
    return invoke


def test_cli_publish_show_verify(cli, tmp_path):
    out = tmp_path / "sh.json"
    r = cli("publish", "--out", str(out))
    assert r.exit_code == 0, r.output
    env = json.loads(out.read_bytes())
    assert env["payload"]["schema"] == "yrd-trust-list/2"  # /2 since the witness role
    shown = cli("show", str(out))
    assert shown.exit_code == 0 and "licence_signer" in shown.output and "上海市市场监督管理局" in shown.output
    at = env["payload"]["issued_at"]
    ok = cli("verify", str(out), "--at", at)
    assert ok.exit_code == 0, ok.output
    assert "验证通过" in ok.output
    js = cli("verify", str(out), "--at", at, "--json")
    assert json.loads(js.output)["indication"] == TOTAL_PASSED

    lotl = tmp_path / "lotl.json"
    assert cli("publish", "--federation", "--out", str(lotl)).exit_code == 0
    assert "yrd-lotl/1" in cli("show", str(lotl)).output
    assert cli("verify", str(lotl), "--at", at).exit_code == 0
    assert cli("verify", str(out), "--at", at, "--federation", str(lotl)).exit_code == 0

    env["payload"]["entries"][0]["status"] = "withdrawn"  # tampered
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(env))
    assert cli("verify", str(bad), "--at", at).exit_code == 1
    stale = cli("verify", str(out), "--at", "2027-06-01T00:00:00Z")
    assert stale.exit_code == 2 and "TRY_LATER" in stale.output
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\x00not json")
    assert cli("verify", str(junk)).exit_code == 3
    junk.write_text('{"payload": {}, "signature": {"alg": 1}}')
    assert cli("verify", str(junk)).exit_code == 3
    assert cli("verify", str(tmp_path / "missing.json")).exit_code == 3
    assert cli("verify", str(out), "--at", "yesterday").exit_code == 3


def test_cli_publish_is_what_the_node_serves(cli, client, clock, tmp_path):
    from datetime import datetime, timezone

    clock.set(datetime.now(timezone.utc))  # the CLI runs on the wall clock
    served = client.get("/api/v1/trust-list")
    out = tmp_path / "sh.json"
    assert cli("publish", "--out", str(out)).exit_code == 0
    assert out.read_bytes() == served.content
